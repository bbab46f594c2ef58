/**
 * The next best action: a policy that is data, not code. A policy holds one ordered list of
 * rules for subscription customers and one for ad-hoc buyers (seed 000: the strategies differ
 * between customers defaulted into repeat transactions and those who decide each purchase).
 * The first rule whose conditions all hold gives the action; the last rule of each list must
 * have no condition, so every customer gets an action ('none' is an action).
 *
 * The actions are the catalog's `nextActions` (seed 003's strategies): retention-save,
 * winback, education, usage-stimulation, cross-sell, up-sell, down-sell (right-sizing),
 * reward (recognition) and none. docs/scoring.md prints the default policy as a table.
 */
import { z } from 'zod';
import { nextActions } from '../events/catalog.ts';
import type { ValueTier } from '../clv/tiers.ts';
import { type RiskBand, riskBands } from './risk.ts';

export type NextBestAction = (typeof nextActions)[number];
export const valueTiers = ['top', 'high', 'medium', 'low', 'lapsed'] as const satisfies readonly ValueTier[];

/** What the policy's conditions can look at, derived from the profile and the new score. */
export type NbaFacts = {
  kind: 'adhoc' | 'subscription';
  /** Subscribers: a subscription is active. Ad-hoc buyers: not lapsed (P(alive) at or above the lapsed line). */
  active: boolean;
  riskBand: RiskBand;
  valueTier: ValueTier;
  /** Actions recommended by the churn triggers still active for the customer. */
  triggerActions: readonly NextBestAction[];
  /** A cancelled subscription whose customer allowed winback contact. */
  winbackPermitted: boolean;
  /** Pays for a product (active subscription) never used. */
  unusedPaidProduct: boolean;
  /** Last complete month's usage of some product fell well below its usual level. */
  usageDeclining: boolean;
  /** Repeat purchase days (ad-hoc) or renewals (subscription). */
  repeatPurchases: number;
  /** Months since the first purchase (ad-hoc) or since the current subscription spell began. */
  tenureMonths: number;
  /** Distinct products the customer uses or subscribes to. */
  products: number;
};

const condition = z
  .object({
    active: z.boolean().optional(),
    riskBands: z.array(z.enum(riskBands)).min(1).optional(),
    valueTiers: z.array(z.enum(valueTiers)).min(1).optional(),
    /** any active trigger recommends one of these */
    triggerActions: z.array(z.enum(nextActions)).min(1).optional(),
    winbackPermitted: z.boolean().optional(),
    unusedPaidProduct: z.boolean().optional(),
    usageDeclining: z.boolean().optional(),
    minRepeatPurchases: z.number().int().nonnegative().optional(),
    maxRepeatPurchases: z.number().int().nonnegative().optional(),
    minTenureMonths: z.number().nonnegative().optional(),
    maxTenureMonths: z.number().nonnegative().optional(),
    maxProducts: z.number().int().nonnegative().optional(),
  })
  .strict();

const rule = z.object({ id: z.string().min(1).max(64), action: z.enum(nextActions), when: condition.default({}) }).strict();

const ruleList = z
  .array(rule)
  .min(1)
  .superRefine((rules, ctx) => {
    const ids = new Set<string>();
    rules.forEach((r, i) => {
      if (ids.has(r.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `rule id "${r.id}" is used twice` });
      ids.add(r.id);
    });
    const last = rules[rules.length - 1];
    if (last && Object.keys(last.when).length > 0) ctx.addIssue({ code: 'custom', path: [rules.length - 1, 'when'], message: 'the last rule must have no condition, so every customer gets an action' });
  });

export const nbaPolicySchema = z.object({ subscription: ruleList, adhoc: ruleList }).strict();
export type NbaPolicy = z.infer<typeof nbaPolicySchema>;
export type NbaRule = NbaPolicy['adhoc'][number];

export const defaultNbaPolicy: NbaPolicy = {
  subscription: [
    { id: 'winback-permitted', action: 'winback', when: { active: false, winbackPermitted: true } },
    { id: 'ended', action: 'none', when: { active: false } },
    { id: 'trigger-save', action: 'retention-save', when: { triggerActions: ['retention-save'] } },
    { id: 'high-risk-save', action: 'retention-save', when: { riskBands: ['high'], valueTiers: ['top', 'high', 'medium'] } },
    { id: 'unused-product', action: 'education', when: { unusedPaidProduct: true } },
    { id: 'right-size', action: 'down-sell', when: { usageDeclining: true, riskBands: ['medium', 'high'] } },
    { id: 'stimulate-usage', action: 'usage-stimulation', when: { usageDeclining: true } },
    { id: 'new-subscriber', action: 'education', when: { maxTenureMonths: 2 } },
    { id: 'loyal-top', action: 'reward', when: { valueTiers: ['top'], riskBands: ['low'], minTenureMonths: 12 } },
    { id: 'grow-valuable', action: 'up-sell', when: { valueTiers: ['top', 'high'], riskBands: ['low'] } },
    { id: 'widen', action: 'cross-sell', when: { riskBands: ['low'], maxProducts: 1 } },
    { id: 'default', action: 'none', when: {} },
  ],
  adhoc: [
    { id: 'trigger-save', action: 'retention-save', when: { triggerActions: ['retention-save'] } },
    { id: 'lapsed', action: 'winback', when: { valueTiers: ['lapsed'] } },
    { id: 'high-risk-save', action: 'retention-save', when: { riskBands: ['high'], valueTiers: ['top', 'high'] } },
    { id: 'first-purchase', action: 'education', when: { maxRepeatPurchases: 0, maxTenureMonths: 3 } },
    { id: 'loyal-top', action: 'reward', when: { valueTiers: ['top'], riskBands: ['low'] } },
    { id: 'grow-valuable', action: 'up-sell', when: { valueTiers: ['high'], riskBands: ['low'] } },
    { id: 'widen', action: 'cross-sell', when: { valueTiers: ['top', 'high', 'medium'], riskBands: ['low', 'medium'] } },
    { id: 'buy-again', action: 'usage-stimulation', when: { riskBands: ['medium', 'high'] } },
    { id: 'default', action: 'none', when: {} },
  ],
};

type Condition = NbaRule['when'];

function holds(c: Condition, f: NbaFacts): boolean {
  if (c.active !== undefined && c.active !== f.active) return false;
  if (c.riskBands && !c.riskBands.includes(f.riskBand)) return false;
  if (c.valueTiers && !c.valueTiers.includes(f.valueTier)) return false;
  if (c.triggerActions && !c.triggerActions.some((a) => f.triggerActions.includes(a))) return false;
  if (c.winbackPermitted !== undefined && c.winbackPermitted !== f.winbackPermitted) return false;
  if (c.unusedPaidProduct !== undefined && c.unusedPaidProduct !== f.unusedPaidProduct) return false;
  if (c.usageDeclining !== undefined && c.usageDeclining !== f.usageDeclining) return false;
  if (c.minRepeatPurchases !== undefined && f.repeatPurchases < c.minRepeatPurchases) return false;
  if (c.maxRepeatPurchases !== undefined && f.repeatPurchases > c.maxRepeatPurchases) return false;
  if (c.minTenureMonths !== undefined && f.tenureMonths < c.minTenureMonths) return false;
  if (c.maxTenureMonths !== undefined && f.tenureMonths > c.maxTenureMonths) return false;
  if (c.maxProducts !== undefined && f.products > c.maxProducts) return false;
  return true;
}

/** The first rule of the customer's list that holds (a validated policy always has one). */
export function chooseNextBestAction(policy: NbaPolicy, facts: NbaFacts): { action: NextBestAction; ruleId: string } {
  const rules = facts.kind === 'subscription' ? policy.subscription : policy.adhoc;
  for (const r of rules) if (holds(r.when, facts)) return { action: r.action, ruleId: r.id };
  // unreachable for a validated policy (its last rule has no condition)
  throw new Error(`next-best-action policy for ${facts.kind} customers has no rule that matches everybody`);
}
