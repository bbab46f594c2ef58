/**
 * Campaign response (the report's section 2): opens, clicks and purchases within an
 * attribution window after each campaign decision, by campaign, segment (kind) and value
 * tier, for the emails sent against the customers held back — the global holdout and the
 * campaign's control group (shared/campaigns/guardrails.ts), whose purchases in the same
 * window are the baseline. Gathered inside the nightly run like the other sections: each
 * scoring worker adds the decisions of the customers it scores (their send ledger entries,
 * read with the profile) to mergeable counts; the figures are drawn from the merged counts.
 *
 * Definitions (docs/report.md, "Campaign response"):
 * - a decision is a ledger entry `sent` (group `sent`) or `control` (group `holdout` when the
 *   guardrails' reason is the global holdout, else `control`), on the UTC day D of its `at`;
 * - its window is the `attributionDays` W days after D (D + 1 … D + W); the night counts the
 *   decisions whose window has closed by the run date and that were made in the `decisionDays`
 *   days before that: D in [runDate − W − decisionDays + 1, runDate − W];
 * - opened / clicked: the email's first open / click (the profile's `emailResponses`, by send
 *   id or SES message id) at or after the decision and by the end of D + W; held-back
 *   customers get no email, so they have no opens or clicks;
 * - purchased: a purchase day of the profile in D + 1 … D + W (purchase days are whole days:
 *   a purchase on D itself may precede the decision, and is left out in both groups), and the
 *   money spent on those days.
 */
import { isCampaignName } from '../campaigns/catalog.ts';
import type { CustomerProfile } from '../customers/profile.ts';
import type { SendRecord } from '../ports.ts';
import type { ValueTier } from '../clv/tiers.ts';
import { compareProportions, wilsonInterval } from '../stats/proportions.ts';
import type { Estimate } from '../stats/break-even.ts';
import { zOf } from '../stats/normal.ts';
import { type Moments, emptyMoments, meanOf, mergeMoments, varianceOf } from './sketch.ts';

export type ResponseWindow = {
  /** W: the days after a decision's day in which opens, clicks and purchases count */
  attributionDays: number;
  /** the decisions counted: those of the this many days whose window has closed */
  decisionDays: number;
};

export const defaultResponseWindow: ResponseWindow = { attributionDays: 7, decisionDays: 28 };

export type ResponseGroup = 'sent' | 'holdout' | 'control';

export type ResponseCell = { decisions: number; opened: number; clicked: number; purchased: number; spend: Moments };

export type ResponsePart = {
  /** the window the counts were made with, and the decision days they cover (absent: nothing counted yet) */
  attributionDays?: number;
  decidedFrom?: string;
  decidedTo?: string;
  /** campaign → `${group}|${kind}|${tier}` → counts */
  cells: Record<string, Record<string, ResponseCell>>;
};

export const emptyResponsePart = (): ResponsePart => ({ cells: {} });
const emptyCell = (): ResponseCell => ({ decisions: 0, opened: 0, clicked: 0, purchased: 0, spend: emptyMoments() });

const DAY_MS = 86_400_000;
const addDays = (day: string, n: number): string => new Date(Date.parse(`${day.slice(0, 10)}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** The decision days a night counts: [from, to] (YYYY-MM-DD). */
export function decisionDays(runDate: string, w: ResponseWindow): { from: string; to: string } {
  const to = addDays(runDate, -w.attributionDays);
  return { from: addDays(to, -(w.decisionDays - 1)), to };
}

/** The ledger entries a worker needs: those at or after this instant (the start of the first decision day). */
export const responseSendsSince = (runDate: string, w: ResponseWindow): Date => new Date(`${decisionDays(runDate, w).from}T00:00:00.000Z`);

/** The group of a ledger entry, or undefined for one that is not a decision (skipped, deferred, in flight…). */
export function responseGroup(s: Pick<SendRecord, 'status' | 'reason'>): ResponseGroup | undefined {
  if (s.status === 'sent') return 'sent';
  if (s.status === 'control') return (s.reason ?? '').startsWith('global holdout') ? 'holdout' : 'control';
  return undefined;
}

/** Campaign names come from the ledger (the catalog's names); a name the catalog no longer has is counted under "(other)". */
const campaignKey = (c: string): string => (isCampaignName(c) ? c : '(other)');

/** Adds a customer's decisions in the counted days to the part (mutating it: a worker's accumulator). */
export function addResponses(
  part: ResponsePart,
  c: { profile: CustomerProfile; kind: string; tier: ValueTier | string; sends: readonly SendRecord[] },
  context: { runDate: string; window: ResponseWindow },
): void {
  const { from, to } = decisionDays(context.runDate, context.window);
  part.attributionDays ??= context.window.attributionDays;
  part.decidedFrom ??= from;
  part.decidedTo ??= to;
  const responses = Object.values(c.profile.emailResponses ?? {});
  const days = Object.entries(c.profile.purchaseDays);
  for (const s of c.sends) {
    const group = responseGroup(s);
    const day = s.at.slice(0, 10);
    if (!group || day < from || day > to) continue;
    const last = addDays(day, context.window.attributionDays);
    const end = `${last}T23:59:59.999Z`;
    const cell = ((part.cells[campaignKey(s.campaign)] ??= {})[`${group}|${c.kind}|${c.tier}`] ??= emptyCell());
    cell.decisions += 1;
    if (group === 'sent') {
      const r = responses.find((x) => (x.sendId !== undefined && x.sendId === s.sendId) || (s.messageId !== undefined && x.messageId === s.messageId));
      const within = (t: string | undefined) => t !== undefined && t >= s.at && t <= end;
      if (within(r?.firstOpenAt)) cell.opened += 1;
      if (within(r?.firstClickAt)) cell.clicked += 1;
    }
    let spent = 0;
    let bought = false;
    for (const [d, amount] of days) {
      if (d > day && d <= last) {
        bought = true;
        spent += amount;
      }
    }
    if (bought) cell.purchased += 1;
    cell.spend.n += 1;
    cell.spend.sum += spent;
    cell.spend.sumSq += spent * spent;
  }
}

const mergeCell = (a: ResponseCell | undefined, b: ResponseCell | undefined): ResponseCell =>
  !a || !b
    ? structuredClone((a ?? b)!)
    : { decisions: a.decisions + b.decisions, opened: a.opened + b.opened, clicked: a.clicked + b.clicked, purchased: a.purchased + b.purchased, spend: mergeMoments(a.spend, b.spend) };

function mergeKeyed<T>(a: Record<string, T>, b: Record<string, T>, merge: (x: T | undefined, y: T | undefined) => T): Record<string, T> {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return Object.fromEntries(keys.map((k) => [k, merge(a[k], b[k])]));
}

/** Merges two parts (associative and commutative; the empty part is the identity). */
export function mergeResponseParts(a: ResponsePart | undefined, b: ResponsePart | undefined): ResponsePart {
  const x = a ?? emptyResponsePart();
  const y = b ?? emptyResponsePart();
  const attributionDays = x.attributionDays ?? y.attributionDays;
  const decidedFrom = x.decidedFrom ?? y.decidedFrom;
  const decidedTo = x.decidedTo ?? y.decidedTo;
  return {
    ...(attributionDays !== undefined && { attributionDays }),
    ...(decidedFrom !== undefined && { decidedFrom }),
    ...(decidedTo !== undefined && { decidedTo }),
    cells: mergeKeyed(x.cells, y.cells, (p, q) => mergeKeyed(p ?? {}, q ?? {}, mergeCell)),
  };
}

// ---------------------------------------------------------------- figures

export type RateFigure = { count: number; rate: number; low: number; high: number };

export type GroupResponse = {
  decisions: number;
  opened?: RateFigure;
  clicked?: RateFigure;
  purchased?: RateFigure;
  meanSpend: number;
};

export type ResponseRow = {
  campaign: string;
  /** `all`, `kind:subscription`, `kind:adhoc`, `tier:top`, … */
  slice: string;
  sent: GroupResponse;
  /** the global holdout and the campaign's control group together: the baseline */
  heldBack: GroupResponse & { holdout: number; control: number };
  /** purchase rate of the sent − of the held back, Wald interval, pooled z test's p-value */
  purchaseLift?: Estimate & { pValue?: number };
  /** mean spend in the window, sent − held back (normal interval) */
  spendLift?: Estimate;
};

export type CampaignResponseFigures = {
  status: 'no responses recorded yet' | 'recorded';
  note: string;
  attributionDays?: number;
  decidedFrom?: string;
  decidedTo?: string;
  rows: ResponseRow[];
};

const rateOf = (count: number, n: number, confidence: number): RateFigure | undefined => {
  if (n === 0) return undefined;
  const i = wilsonInterval(count, n, confidence);
  return { count, rate: count / n, low: i.low, high: i.high };
};

const total = (cells: ResponseCell[]): ResponseCell => cells.reduce((s, c) => mergeCell(s, c), emptyCell());

function groupResponse(c: ResponseCell, confidence: number, email: boolean): GroupResponse {
  const opened = email ? rateOf(c.opened, c.decisions, confidence) : undefined;
  const clicked = email ? rateOf(c.clicked, c.decisions, confidence) : undefined;
  const purchased = rateOf(c.purchased, c.decisions, confidence);
  return { decisions: c.decisions, ...(opened && { opened }), ...(clicked && { clicked }), ...(purchased && { purchased }), meanSpend: meanOf(c.spend) };
}

function row(campaign: string, slice: string, sent: ResponseCell, holdout: ResponseCell, control: ResponseCell, confidence: number): ResponseRow {
  const held = mergeCell(holdout, control);
  const r: ResponseRow = { campaign, slice, sent: groupResponse(sent, confidence, true), heldBack: { ...groupResponse(held, confidence, false), holdout: holdout.decisions, control: control.decisions } };
  if (sent.decisions > 0 && held.decisions > 0) {
    const c = compareProportions(sent.purchased, sent.decisions, held.purchased, held.decisions, confidence);
    r.purchaseLift = { estimate: c.difference, low: c.differenceInterval.low, high: c.differenceInterval.high, ...(!Number.isNaN(c.pValue) && { pValue: c.pValue }) };
  }
  if (sent.spend.n >= 2 && held.spend.n >= 2) {
    const d = meanOf(sent.spend) - meanOf(held.spend);
    const se = Math.sqrt(varianceOf(sent.spend) / sent.spend.n + varianceOf(held.spend) / held.spend.n);
    const z = zOf(confidence);
    r.spendLift = { estimate: d, low: d - z * se, high: d + z * se };
  }
  return r;
}

const sliceOrder = (s: string) => (s === 'all' ? 0 : s.startsWith('kind:') ? 1 : 2);
const TIER_ORDER = ['top', 'high', 'medium', 'low', 'lapsed'];
const sliceSort = (a: string, b: string) =>
  sliceOrder(a) - sliceOrder(b) || (a.startsWith('tier:') && b.startsWith('tier:') ? TIER_ORDER.indexOf(a.slice(5)) - TIER_ORDER.indexOf(b.slice(5)) : 0) || a.localeCompare(b);

/** The section's figures: per campaign, over all its decisions, then by kind and by tier. */
export function campaignResponseFigures(part: ResponsePart | undefined, confidence: number): CampaignResponseFigures {
  const p = part ?? emptyResponsePart();
  const rows: ResponseRow[] = [];
  for (const campaign of Object.keys(p.cells).sort()) {
    const cells = Object.entries(p.cells[campaign]!).map(([key, cell]) => {
      const [group = '', kind = '', tier = ''] = key.split('|');
      return { group, kind, tier, cell };
    });
    const slices = ['all', ...new Set(cells.map((c) => `kind:${c.kind}`)), ...new Set(cells.map((c) => `tier:${c.tier}`))].sort(sliceSort);
    for (const slice of slices) {
      const inSlice = cells.filter((c) => slice === 'all' || slice === `kind:${c.kind}` || slice === `tier:${c.tier}`);
      const of = (g: ResponseGroup) => total(inSlice.filter((c) => c.group === g).map((c) => c.cell));
      rows.push(row(campaign, slice, of('sent'), of('holdout'), of('control'), confidence));
    }
  }
  const window = p.attributionDays !== undefined ? { attributionDays: p.attributionDays, decidedFrom: p.decidedFrom, decidedTo: p.decidedTo } : {};
  if (rows.length === 0) {
    return {
      status: 'no responses recorded yet',
      note:
        p.decidedFrom !== undefined
          ? `No email was sent or held back on the decision days ${p.decidedFrom} to ${p.decidedTo} (those whose ${p.attributionDays}-day window has closed).`
          : 'No campaign decision has been counted: the nightly run counts the emails sent and held back once their attribution window has closed (unless its campaignResponse.decisionDays setting is 0).',
      ...window,
      rows,
    };
  }
  return {
    status: 'recorded',
    note: `Emails sent and held back (global holdout, control groups) on ${p.decidedFrom} to ${p.decidedTo}; opens, clicks and purchases in the ${p.attributionDays} days after each decision's day. Rates with their Wilson ${Math.round(confidence * 100)} % intervals; purchase lift = purchase rate of the sent − of the held back (Wald interval).`,
    ...window,
    rows,
  };
}
