/**
 * The deliverability circuit breaker: marketing email pauses when the bounce or
 * complaint rate over a recent window nears SES's review thresholds (bounce 5%,
 * complaint 0.1%: AWS puts an account under review there and may pause its
 * sending), so one bad list cannot cost the account its transactional mail.
 * Transactional and service email keeps flowing. Pure: the figures come from
 * the sends and the SES feedback counted per hour (the DeliverabilityCounter port).
 */
import { z } from 'zod';

export type BreakerPolicy = {
  /** Hours of sends and feedback the rates are taken over. */
  windowHours: number;
  /** Below this many sends in the window the rates say too little: the breaker stays closed. */
  minSends: number;
  /** Open at or above this bounce rate (0.04 = 80% of SES's 5%). */
  bounceRate: number;
  /** Open at or above this complaint rate (0.0008 = 80% of SES's 0.1%). */
  complaintRate: number;
  /** A paused marketing send is planned again this many minutes later. */
  pauseMinutes: number;
};

/** Emails sent, and hard bounces and complaints received, over the window. */
export type DeliverabilityFigures = { sends: number; bounces: number; complaints: number };

export type BreakerState = { open: false } | { open: true; reason: string };

export function breakerState(figures: DeliverabilityFigures, policy: BreakerPolicy): BreakerState {
  if (figures.sends < policy.minSends || figures.sends <= 0) return { open: false };
  const bounce = figures.bounces / figures.sends;
  const complaint = figures.complaints / figures.sends;
  if (bounce >= policy.bounceRate) return { open: true, reason: `bounce rate ${(bounce * 100).toFixed(2)}% over ${policy.windowHours} h` };
  if (complaint >= policy.complaintRate) return { open: true, reason: `complaint rate ${(complaint * 100).toFixed(3)}% over ${policy.windowHours} h` };
  return { open: false };
}

/** The kinds the breaker counts: emails SES accepted, hard bounces, complaints. */
export type DeliverabilityKind = keyof DeliverabilityFigures;

/** One SES event counted in the breaker's window: once per `eventId`, in the bucket of the hour of `at`. */
export type DeliverabilityCount = { eventId: string; kind: DeliverabilityKind; at: Date };

/** The counted window (a DeliverabilityCounter, shared/campaigns/send-campaign.ts) read at most once per `ttlMs`. */
export function cachedFigures(
  read: (now: Date, windowHours: number) => Promise<DeliverabilityFigures>,
  ttlMs: number,
  clock: () => number = () => Date.now(),
): (now: Date, windowHours: number) => Promise<DeliverabilityFigures> {
  const cache = new Map<number, { until: number; figures: Promise<DeliverabilityFigures> }>();
  return (now, windowHours) => {
    const hit = cache.get(windowHours);
    const t = clock();
    if (hit && hit.until > t) return hit.figures;
    const figures = read(now, windowHours);
    cache.set(windowHours, { until: t + ttlMs, figures });
    // A failed read is not kept: the next request reads again.
    figures.catch(() => cache.delete(windowHours));
    return figures;
  };
}

const rate = (name: string, max: number) =>
  z.number({ error: `${name} must be a number` }).gt(0, `${name} must be above 0`).max(max, `${name} must be at most ${max}`);
/** The breaker's policy as configured (the `circuitBreaker` setting, CLM_CIRCUIT_BREAKER): any field left out keeps its default. */
export const BreakerPolicySchema = z
  .object({
    windowHours: z.number().int().min(1).max(168),
    minSends: z.number().int().min(1).max(10_000_000),
    // At or below SES's review thresholds: the breaker must open before SES reviews the account.
    bounceRate: rate('bounceRate', 0.05),
    complaintRate: rate('complaintRate', 0.001),
    pauseMinutes: z.number().int().min(5).max(1440),
  })
  .partial()
  .strict();

/** The default policy with the configured fields; an error names the bad field. */
export function parseBreakerPolicy(input: unknown, base: BreakerPolicy): { ok: true; policy: BreakerPolicy } | { ok: false; issues: string[] } {
  const parsed = BreakerPolicySchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined));
  return { ok: true, policy: { ...base, ...defined } };
}
