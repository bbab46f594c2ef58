/**
 * Email templates: files in the repository (`templates/<campaign>/<locale>.html` and
 * `.txt`, partials in `templates/_partials/<locale>/`), Handlebars syntax, rendered per
 * customer. The text part's first line is `Subject: …` (the subject template), then a
 * blank line, then the body. docs/campaigns.md lists the data a template can use.
 *
 * Producer text (a first name, a document number) is untrusted: before rendering, every
 * string of the data is made one line (control characters become spaces), and the HTML
 * part HTML-escapes every `{{value}}` (Handlebars' escaping; `{{{raw}}}` is refused in
 * templates). The text part is not escaped (it is not HTML); the subject is made one
 * line again after rendering, so no header can carry CR, LF or another control character.
 *
 * Rendering is strict: a template that names data the customer does not have throws,
 * and the caller records the send as failed to render instead of sending it. Every
 * template is checked with `checkTemplates` at synth time and in the tests. Pure: the
 * template files are read by ./template-files.ts.
 */
import Handlebars from 'handlebars';
import { singleLine } from '../text/control-chars.ts';
import { campaignNames, type CampaignCatalog, type CampaignName } from './catalog.ts';

/** The template files, by path relative to `templates/` (`retention-save/en.html`), and the validated catalog. */
export type TemplateSet = { catalog: CampaignCatalog; files: Record<string, string> };

/** The data a template is rendered with (docs/campaigns.md). Absent blocks are null. */
export type TemplateData = {
  firstName: string;
  /** The churn rule that caused the email, or '' (templates can vary on it with `eq`). */
  rule: string;
  offer: { headline: string; body: string } | null;
  /** Services the customer pays for and does not use, and their personal help page. */
  education: { url: string; products: string[] } | null;
  /** The statement, invoice or notice a transactional email is about. */
  document: { kind: string; number: string; amount: string; currency: string } | null;
  links: {
    help: string;
    preferences: string;
    /** The one-click unsubscribe link: marketing emails (and the welcome) only. */
    unsubscribe: string | null;
    /** The double opt-in confirmation link (the welcome). */
    confirm: string | null;
    /** The personal help page (/learn/TOKEN). */
    learn: string | null;
  };
};

export type RenderedParts = { subject: string; html: string; text: string; locale: string };
export type RenderResult = { ok: true; parts: RenderedParts } | { ok: false; error: string };

const partialPath = /^_partials\/([^/]+)\/([a-z0-9-]+)\.(html|txt)$/;
const templatePath = /^([a-z0-9-]+)\/([^/]+)\.(html|txt)$/;
const SUBJECT_LINE = /^Subject: ?(.*)\r?\n\r?\n/;

type Compiled = { subject: HandlebarsTemplateDelegate; html: HandlebarsTemplateDelegate; text: HandlebarsTemplateDelegate };
type HandlebarsTemplateDelegate = (data: unknown) => string;

/** Locales a customer's locale falls back through: `de-AT` → `de-AT`, `de`, then the catalog's default. */
export function localeCandidates(locale: string | undefined, defaultLocale: string): string[] {
  const out: string[] = [];
  const tag = (locale ?? '').trim();
  if (/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})?$/.test(tag)) {
    const [lang, region] = tag.split(/[-_]/);
    if (region) out.push(`${lang!.toLowerCase()}-${region.toUpperCase()}`);
    out.push(lang!.toLowerCase());
  }
  out.push(defaultLocale);
  return [...new Set(out)];
}

/** Makes every string of the data one line (recursively); other values stay. */
function oneLine<T>(value: T): T {
  if (typeof value === 'string') return singleLine(value) as T;
  if (Array.isArray(value)) return value.map(oneLine) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, oneLine(v)])) as T;
  return value;
}

/** Compiles and renders the templates of one set; compiled templates are cached per campaign and locale. */
export class TemplateRenderer {
  private readonly cache = new Map<string, Compiled>();

  constructor(readonly set: TemplateSet) {}

  /** The locales a campaign has templates in (both parts). */
  locales(campaign: CampaignName): string[] {
    const found = new Map<string, Set<string>>();
    for (const path of Object.keys(this.set.files)) {
      const m = templatePath.exec(path);
      if (m && m[1] === campaign) found.set(m[2]!, (found.get(m[2]!) ?? new Set()).add(m[3]!));
    }
    return [...found].filter(([, parts]) => parts.size === 2).map(([l]) => l).sort();
  }

  private env(locale: string, part: 'html' | 'txt'): typeof Handlebars {
    const hb = Handlebars.create();
    hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    for (const [path, source] of Object.entries(this.set.files)) {
      const m = partialPath.exec(path);
      if (m && m[1] === locale && m[3] === part) hb.registerPartial(m[2]!, source);
    }
    return hb;
  }

  private compiled(campaign: CampaignName, locale: string): Compiled {
    const key = `${campaign}/${locale}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const html = this.set.files[`${key}.html`];
    const txt = this.set.files[`${key}.txt`];
    if (html === undefined || txt === undefined) throw new Error(`no template ${key} (.html and .txt)`);
    const subjectMatch = SUBJECT_LINE.exec(txt);
    if (!subjectMatch) throw new Error(`${key}.txt must start with a "Subject: …" line and a blank line`);
    for (const [name, source] of [[`${key}.html`, html], [`${key}.txt`, txt]] as const) {
      if (/\{\{\{|\{\{&/.test(source)) throw new Error(`${name} uses an unescaped expression ({{{ }}} or {{& }}): not allowed`);
    }
    const htmlEnv = this.env(locale, 'html');
    const textEnv = this.env(locale, 'txt');
    const compiled: Compiled = {
      subject: textEnv.compile(subjectMatch[1]!, { strict: true, noEscape: true }),
      html: htmlEnv.compile(html, { strict: true }),
      text: textEnv.compile(txt.slice(subjectMatch[0].length), { strict: true, noEscape: true }),
    };
    // Compile eagerly (Handlebars compiles on first call): syntax errors surface here.
    const noop = { firstName: '', rule: '', offer: null, education: null, document: null, links: {} };
    for (const part of Object.values(compiled)) {
      try {
        part(noop);
      } catch (e) {
        if (!/not defined in/.test((e as Error).message)) throw e;
      }
    }
    this.cache.set(key, compiled);
    return compiled;
  }

  /** The campaign's email for one customer, in the first of their locales it has templates in. */
  render(campaign: CampaignName, customerLocale: string | undefined, data: TemplateData): RenderResult {
    const available = new Set(this.locales(campaign));
    const locale = localeCandidates(customerLocale, this.set.catalog.defaultLocale).find((l) => available.has(l));
    if (!locale) return { ok: false, error: `campaign ${campaign} has no template in ${customerLocale ?? 'any locale'} nor ${this.set.catalog.defaultLocale}` };
    try {
      const t = this.compiled(campaign, locale);
      const safe = oneLine(data);
      const subject = singleLine(t.subject(safe));
      if (!subject) return { ok: false, error: `${campaign}/${locale}: the subject is empty` };
      return { ok: true, parts: { subject, html: t.html(safe), text: t.text(safe), locale } };
    } catch (e) {
      // Handlebars' message names the template position and the missing field, never a value.
      return { ok: false, error: `${campaign}/${locale}: ${singleLine((e as Error).message).slice(0, 300)}` };
    }
  }
}

/** Data with every block present (or, with `full` false, every optional block absent), for checks. */
export function sampleTemplateData(full: boolean, marketing: boolean): TemplateData {
  return {
    firstName: 'Ada <&> "Lovelace"',
    rule: full ? 'billing-complaint' : '',
    offer: full ? { headline: 'Sample offer', body: 'Sample offer body' } : null,
    education: full ? { url: 'https://example.com/learn/T', products: ['broadband', 'tv'] } : null,
    document: { kind: 'statement', number: 'S-1', amount: '12.34', currency: 'EUR' },
    links: {
      help: 'https://example.com/help',
      preferences: 'https://example.com/preferences/T',
      unsubscribe: marketing ? 'https://example.com/u/T' : null,
      confirm: 'https://example.com/confirm/T',
      learn: 'https://example.com/learn/T',
    },
  };
}

/**
 * Every problem of a template set: a campaign without templates in the default locale, a
 * template file of no campaign, a template that does not compile or does not render with
 * every block present and with every optional block absent, a marketing email whose body
 * lacks its unsubscribe link, an HTML part that lets markup through unescaped.
 * Empty when all is well. `cdk synth` fails on any (infra/stack.ts), and so do the tests.
 */
export function checkTemplates(set: TemplateSet): string[] {
  const problems: string[] = [];
  const renderer = new TemplateRenderer(set);
  for (const path of Object.keys(set.files)) {
    const m = templatePath.exec(path);
    if (!partialPath.test(path) && !(m && (campaignNames as readonly string[]).includes(m[1]!))) problems.push(`${path}: not a template of any campaign in templates/campaigns.json`);
  }
  for (const campaign of campaignNames) {
    const locales = renderer.locales(campaign);
    if (!locales.includes(set.catalog.defaultLocale)) problems.push(`${campaign}: no template (.html and .txt) in the default locale ${set.catalog.defaultLocale}`);
    const marketing = set.catalog.campaigns[campaign].purpose !== 'transactional';
    for (const locale of locales) {
      for (const full of [true, false]) {
        const data = sampleTemplateData(full, marketing);
        const out = renderer.render(campaign, locale, data);
        if (!out.ok) {
          problems.push(out.error);
          continue;
        }
        if (out.parts.locale !== locale) continue;
        if (/<&>/.test(out.parts.html) || out.parts.html.includes('"Lovelace"')) problems.push(`${campaign}/${locale}.html: the first name is not HTML-escaped`);
        if (marketing && data.links.unsubscribe && !(out.parts.html.includes(data.links.unsubscribe) && out.parts.text.includes(data.links.unsubscribe))) {
          problems.push(`${campaign}/${locale}: the body does not carry the unsubscribe link`);
        }
      }
    }
  }
  return problems;
}
