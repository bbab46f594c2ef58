/** The report part's schema, for the nightly steps' validated input (a part travels between invocations and to the finish step). */
import { z } from 'zod';
import type { ReportPart } from './aggregate.ts';

const count = z.number().int().nonnegative();
const counts = z.record(z.string().max(200), z.number().nonnegative());
const moments = z.object({ n: count, sum: z.number().finite(), sumSq: z.number().nonnegative() }).strict();
const group = z.object({ assigned: count, observed: count, churned: count, riskChange: moments, clvChange: moments, clvAtPlan: moments, clvKept: moments }).strict();
const profile = z
  .object({
    customers: count,
    tenureMonths: moments,
    products: moments,
    orders: moments,
    spend: moments,
    clv: moments,
    serviceCalls: moments,
    returns: moments,
    churned: count,
    emailMarketing: count,
    preferredChannel: counts,
    kind: counts,
    locale: counts,
  })
  .strict();
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const responseCell = z.object({ decisions: count, opened: count, clicked: count, purchased: count, spend: moments }).strict();
const response = z
  .object({
    attributionDays: z.number().int().positive().optional(),
    decidedFrom: day.optional(),
    decidedTo: day.optional(),
    cells: z.record(z.string().max(60), z.record(z.string().max(200), responseCell)),
  })
  .strict();
const reason = z.object({ customers: count, events: count, churned: count, churnRisk: moments }).strict();

export const reportPartSchema = z
  .object({
    outreach: z.record(z.string().regex(/^\d{4}-\d{2}$/), z.object({ treatment: group.optional(), control: group.optional() }).strict()),
    best: z.object({ top: profile, rest: profile }).strict(),
    lookalike: counts,
    survival: z.record(z.string().max(100), z.record(z.string().regex(/^\d{1,3}$/), z.tuple([count, count]))),
    returns: z.object({ customers: count, returns: count, value: z.number().nonnegative(), byReason: counts, churnByReason: z.record(z.string().max(200), reason) }).strict(),
    service: z
      .object({ customers: count, calls: count, byReason: z.record(z.string().max(200), reason), resolutionMinutes: z.array(count).max(64), resolved: count, unresolved: count, open: count })
      .strict(),
    // absent in parts stored before campaign response was counted
    response: response.default(() => ({ cells: {} })),
    customers: count,
  })
  .strict() satisfies z.ZodType<ReportPart>;
