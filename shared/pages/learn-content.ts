/**
 * The personal help page's content: how-to steps per product, per locale, as
 * configuration (content/pages/learn.json), validated here, at synthesis (the
 * pages function imports it) and in the tests. `{product}` in the `other`
 * entry stands for the product id of a product the file does not describe.
 */
import { z } from 'zod';
import learnJson from '../../content/pages/learn.json' with { type: 'json' };

const text = z.string().trim().min(1).max(500);
const ProductHelp = z.strictObject({ name: text, intro: text, steps: z.array(text).min(1).max(12) });
export type ProductHelp = z.infer<typeof ProductHelp>;

export const LearnContent = z
  .strictObject({
    defaultLocale: z.string().min(2),
    locales: z.record(z.string().min(2), z.strictObject({ products: z.record(z.string().min(1), ProductHelp), other: ProductHelp })),
  })
  .refine((c) => Object.hasOwn(c.locales, c.defaultLocale), { message: 'defaultLocale must be one of the locales', path: ['defaultLocale'] });
export type LearnContent = z.infer<typeof LearnContent>;

export function parseLearnContent(input: unknown): LearnContent {
  const parsed = LearnContent.safeParse(input);
  if (!parsed.success) throw new Error(`invalid help page content: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** The content in the repository (content/pages/learn.json), validated when this module loads. */
export const learnContent: LearnContent = parseLearnContent(learnJson);

/** The locale of the content for a customer's locale (`nl-NL` → `nl` if there is one), else the default. */
export function contentLocale(content: LearnContent, customerLocale: string | undefined): string {
  const tag = customerLocale?.trim().toLowerCase();
  if (tag) {
    if (Object.hasOwn(content.locales, tag)) return tag;
    const language = tag.split(/[-_]/)[0]!;
    if (Object.hasOwn(content.locales, language)) return language;
  }
  return content.defaultLocale;
}

/** How-to for one product in a locale: its own entry, or the `other` entry naming the product. */
export function helpFor(content: LearnContent, locale: string, productId: string): ProductHelp {
  const l = content.locales[locale] ?? content.locales[content.defaultLocale]!;
  if (Object.hasOwn(l.products, productId)) return l.products[productId]!;
  const fill = (s: string) => s.replaceAll('{product}', productId);
  return { name: fill(l.other.name), intro: fill(l.other.intro), steps: l.other.steps.map(fill) };
}
