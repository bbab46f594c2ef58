/** The report's settings, validated (defaults in figures.ts `defaultReportSettings`); invalid ones come back as reasons. */
import { z } from 'zod';
import { type ReportSettings, defaultReportSettings } from './figures.ts';

const d = defaultReportSettings;
export const reportSettingsSchema = z
  .object({
    costPerContact: z.number().nonnegative().finite().default(d.costPerContact),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR or USD').default(d.currency),
    targetReduction: z.number().gt(0).max(1).default(d.targetReduction),
    confidence: z.number().gt(0.5).lt(1).default(d.confidence),
    power: z.number().gt(0).lt(1).default(d.power),
    bootstrap: z
      .object({ replicates: z.number().int().min(100).max(100_000).default(d.bootstrap.replicates), seed: z.number().int().nonnegative().default(d.bootstrap.seed) })
      .strict()
      .prefault({}),
    minLookalikeCount: z.number().int().min(1).default(d.minLookalikeCount),
  })
  .strict() satisfies z.ZodType<ReportSettings, unknown>;

export function parseReportSettings(input: unknown): { ok: true; settings: ReportSettings } | { ok: false; issues: string[] } {
  const parsed = reportSettingsSchema.safeParse(input ?? {});
  if (parsed.success) return { ok: true, settings: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`) };
}
