/**
 * Every setting of the nightly scoring, in one validated object with its defaults (the
 * middy way: a plain `defaults` merged with what the caller gives). `parseScoringConfig({})`
 * is the default configuration; a partial object overrides only what it names. Invalid
 * settings come back as a value with the reasons, not as an exception.
 * docs/scoring.md explains each setting.
 */
import { z } from 'zod';
import { nbaPolicySchema, defaultNbaPolicy } from './next-best-action.ts';

const share = z.number().min(0).max(1);
const positive = z.number().positive().finite();
/** A change counts when |new − old| > max(absolute, relative × |old|). */
const threshold = (absolute: number, relative: number) =>
  z.object({ absolute: z.number().nonnegative().finite().default(absolute), relative: z.number().nonnegative().finite().default(relative) }).strict().prefault({});

export const scoringConfigSchema = z
  .object({
    clv: z
      .object({
        /** CLV horizon in months */
        months: z.number().int().min(1).max(120).default(12),
        /** monthly discount rate */
        monthlyDiscountRate: z.number().min(0).max(1).default(0.01),
        /** profit margin applied to spend (1 = revenue) */
        margin: share.default(1),
      })
      .strict()
      .prefault({}),
    churn: z
      .object({
        adHocRisk: z.enum(['no-purchase-within-horizon', 'one-minus-p-alive']).default('no-purchase-within-horizon'),
        horizonMonths: z.number().int().min(1).max(24).default(3),
        triggerHalfLifeDays: positive.default(14),
        triggerMaxAgeDays: positive.default(90),
        bands: z
          .object({ medium: share.default(0.5), high: share.default(0.8) })
          .strict()
          .prefault({})
          .refine((b) => b.medium < b.high, 'the medium band must start below the high band'),
      })
      .strict()
      .prefault({}),
    tiers: z
      .object({
        /** below this P(alive) a customer is "lapsed" */
        lapsedBelow: share.default(0.2),
        /** cumulative shares of the top, high and medium tiers (the rest is low) */
        shares: z
          .tuple([share, share, share])
          .default([0.1, 0.3, 0.6])
          .refine(([a, b, c]) => a > 0 && a < b && b < c && c <= 1, 'tier shares must increase: 0 < top < high < medium ≤ 1'),
      })
      .strict()
      .prefault({}),
    fit: z
      .object({
        /** above this many customers the fit uses a hash sample of about this size */
        maxSample: z.number().int().min(100).default(1_000_000),
        /** salt of the fit sample: the same salt draws the same customers every night */
        sampleSalt: z.string().min(1).max(64).default('v1'),
        minAdHocCustomers: z.number().int().min(10).default(500),
        minRepeatBuyers: z.number().int().min(3).default(100),
        minSubscribers: z.number().int().min(2).default(100),
        /** every shape and rate parameter must lie in [min, max] */
        parameterRange: z
          .object({ min: positive.default(1e-4), max: positive.default(1e4) })
          .strict()
          .prefault({})
          .refine((r) => r.min < r.max, 'the parameter range must be non-empty'),
        /** the Gamma-Gamma scale γ is in money units; it must lie in (0, maxSpendScale] */
        maxSpendScale: positive.default(1e9),
        /**
         * One pass over the index: when the newest model of an earlier night is at most this many
         * days older than tonight, score with it while gathering tonight's fit sample, and fit
         * after (the model the next night scores with). 0: always two passes (gather, fit, score).
         */
        scoreWithPreviousModelDays: z.number().int().min(0).max(31).default(1),
      })
      .strict()
      .prefault({}),
    writeThresholds: z
      .object({
        clv: threshold(1, 0.05),
        potentialSpend: threshold(1, 0.05),
        pAlive: threshold(0.02, 0),
        churnRisk: threshold(0.02, 0),
        /** a customer scored for the first time emits CustomerRescored (its tier and band are new) */
        emitOnFirstScore: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    nextBestAction: nbaPolicySchema.default(defaultNbaPolicy),
    outreach: z
      .object({
        /** the experiment the plan belongs to: a new id draws new groups */
        experimentId: z.string().min(1).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, underscore and dash').default('outreach-v1'),
        /** only customers whose churn risk is above this are candidates */
        riskAbove: share.default(0.5),
        /** rank candidates by CLV, or by value at risk (CLV × churn risk) */
        rankBy: z.enum(['clv', 'value-at-risk']).default('clv'),
        /** customers planned per calendar month (both groups), spread over the nights */
        customersPerMonth: z.number().int().min(0).max(1_000_000).default(200),
        /** share of the planned customers staff reach out to; the rest is the control group */
        treatedPercent: z.number().min(0).max(100).default(50),
      })
      .strict()
      .prefault({}),
    /** the report's campaign response (shared/report/response.ts), counted by the scoring workers */
    campaignResponse: z
      .object({
        /** opens, clicks and purchases count in this many days after a decision's day */
        attributionDays: z.number().int().min(1).max(90).default(7),
        /** the decisions (sent, held back) of this many days whose window has closed; 0: not counted (no ledger reads) */
        decisionDays: z.number().int().min(0).max(366).default(28),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type ScoringConfig = z.infer<typeof scoringConfigSchema>;
export type ScoringConfigInput = z.input<typeof scoringConfigSchema>;

export type ConfigResult = { ok: true; config: ScoringConfig } | { ok: false; issues: string[] };

/** Validates a (partial) configuration and fills in the defaults. */
export function parseScoringConfig(input: unknown): ConfigResult {
  const parsed = scoringConfigSchema.safeParse(input ?? {});
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`) };
}

/** The defaults. */
export const defaultScoringConfig: ScoringConfig = scoringConfigSchema.parse({});
