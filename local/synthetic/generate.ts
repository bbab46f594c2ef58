/**
 * Synthetic customer base → business events, as producers would put them on
 * the bus. Deterministic for a seed (and `now`, and `runAt`, the clock the
 * expectations are computed at).
 *
 * About 18 months of history for a mix of subscription customers (plans,
 * changes, cancellations, monthly statements, usage — some declining, some
 * products held and never used) and ad-hoc buyers (repeat purchases drawn as
 * in BG/NBD: each buyer's purchase rate from a gamma, the chance of dropping
 * out after a purchase from a beta), orders with status changes (some stuck in
 * "preparing"), returns, invoices, support calls with reasons and resolution
 * times, failed payments and consent changes.
 *
 * The history before the last `liveDays` comes first, customer by customer (the
 * initial load of a new deployment); the live window follows in time order.
 * Like real producers, the stream is mostly in order, with some events
 * out of order and a few sent twice (same eventId). A handful of deliberately
 * malformed entries exercise the rejection paths.
 *
 * Every seed and size has at least one recent billing complaint the retention
 * email can reach, as the pure pipeline (shared/pipeline/) predicts it with the
 * real trigger rules and send guardrails: when the draw has none, the last
 * customer outside the retention-save control group is adjusted to make one.
 */
import { defaultSendPolicy, inControlGroup } from '../../shared/campaigns/guardrails.ts';
import type { supportReasons } from '../../shared/events/catalog.ts';
import { triggerConfig } from '../../shared/triggers/config.ts';
import { defaults } from '../../shared/defaults.ts';
import { billingPath } from '../../shared/pipeline/billing-path.ts';
import { busEnvelope, createPipeline } from '../../shared/pipeline/run-pipeline.ts';
import { createRandom, type Random } from './random.ts';

export type GeneratedEntry = {
  Source: string;
  DetailType: string;
  Detail: string;
  Time?: Date;
};

export type GenerateOptions = {
  /** Number of customers (default 5000). */
  customers?: number;
  /** Seed of the random generator (default 42). */
  seed?: number;
  /** End of the history (default: the start of the current UTC day). */
  now?: Date;
  /** Months of history (default 18). */
  months?: number;
  /** Days before `now` replayed live, in time order; older history is loaded customer by customer (default 14). */
  liveDays?: number;
  /** Include the deliberately malformed entries (default true). */
  malformed?: boolean;
  /**
   * The retention-save control group the campaigns handler will use, in percent
   * (default: the stack's default): decides which billing complaints can be emailed.
   */
  controlGroupPercent?: number;
  /** The control-group experiment the campaigns handler will use (default: the send policy's). */
  controlGroupExperiment?: string;
  /**
   * The clock of the run the data is for: what the pipeline's expectations are computed at
   * (which complaints are still fresh). Default: `now` when given, else the current time.
   */
  runAt?: Date;
};

export type MalformedKind = 'missing-field' | 'wrong-type' | 'unknown-detail-type' | 'not-json' | 'oversized' | 'bad-enum' | 'bad-timestamp';

export type GeneratedData = {
  entries: GeneratedEntry[];
  stats: {
    customers: number;
    subscriptionCustomers: number;
    adhocCustomers: number;
    emailConsent: number;
    events: number;
    byType: Record<string, number>;
    duplicates: number;
    outOfOrder: number;
    malformed: Record<MalformedKind, number>;
    /** Billing complaints recent enough at `runAt` to fire a trigger (the trigger policy's freshness window). */
    recentBillingComplaints: number;
    /**
     * Of those, the ones whose retention email goes out when the entries are replayed at
     * `runAt`, as the pure pipeline (the real ingest, trigger rules and send guardrails, in
     * memory) predicts it. At least 1 unless every customer is in the control group.
     */
    deliverableBillingComplaints: number;
  };
};

export const SOURCES = {
  crm: 'com.example.crm',
  orders: 'com.example.orders',
  billing: 'com.example.billing',
  support: 'com.example.support',
  usage: 'com.example.usage',
} as const;

const DAY = 86_400_000;
const FIRST_NAMES = ['Anna', 'Bram', 'Chloe', 'Daan', 'Emma', 'Finn', 'Grace', 'Hugo', 'Iris', 'Jonas', 'Katya', 'Lucas', 'Maya', 'Noah', 'Olivia', 'Pieter', 'Quinn', 'Rosa', 'Sam', 'Tess', 'Umar', 'Vera', 'Willem', 'Xena', 'Yara', 'Zeno'];
const LAST_NAMES = ['Jansen', 'de Vries', 'Bakker', 'Visser', 'Smit', 'Meyer', 'Mulder', 'Bos', 'Dekker', 'Peters', 'Hendriks', 'Dijkstra', 'Murphy', 'Garcia', 'Rossi', 'Novak', 'Schmidt', 'Dubois', 'Silva', 'Kowalski'];
const ZONES: [string, string][] = [
  ['Europe/Amsterdam', 'nl-NL'],
  ['Europe/Brussels', 'nl-BE'],
  ['Europe/Berlin', 'de-DE'],
  ['Europe/London', 'en-GB'],
  ['Europe/Paris', 'fr-FR'],
  ['Europe/Madrid', 'es-ES'],
];
const PRODUCTS = [
  { productId: 'broadband', unit: 'GB', plans: [['basic', 29], ['plus', 39], ['max', 55]] as [string, number][], usage: 180 },
  { productId: 'mobile', unit: 'GB', plans: [['s', 12], ['m', 20], ['l', 30]] as [string, number][], usage: 9 },
  { productId: 'tv', unit: 'hours', plans: [['start', 15], ['complete', 27]] as [string, number][], usage: 60 },
  { productId: 'cloud-backup', unit: 'GB', plans: [['100gb', 3], ['1tb', 9]] as [string, number][], usage: 40 },
];
const CATEGORIES = [
  ['accessories', 15, 'ACC'],
  ['devices', 180, 'DEV'],
  ['cables', 12, 'CAB'],
  ['smart-home', 70, 'SMH'],
  ['gift-cards', 25, 'GFT'],
] as const;
const REASON_WEIGHTS: Record<(typeof supportReasons)[number], number> = {
  billing: 24,
  network: 18,
  technical: 20,
  product: 10,
  delivery: 10,
  cancellation: 6,
  other: 12,
};

/**
 * The model families the base is drawn from, with the parameters of the published fits, so
 * that the nightly fit (shared/scoring/fit.ts) has the heterogeneity between customers that
 * its models estimate.
 * - Ad-hoc repeat buying, per month (BG/NBD): purchase rate λ ~ Gamma(r, rate α), dropout
 *   after each purchase p ~ Beta(a, b).
 * - Spend per order (Gamma-Gamma): each buyer's ν ~ Gamma(q, rate γ), each order's amount
 *   ~ Gamma(p, rate ν), so a buyer's mean order is p/ν and the base's mean pγ/(q − 1). The CDNOW
 *   fit (Hardie note 025: p = 6.25, q = 3.74, γ = 15.44 dollars, mean ≈ $35) with γ scaled × 3
 *   to euros of this shop (mean order ≈ €106).
 * - Subscriber churn (sBG): each subscriber's monthly churn probability θ ~ Beta(α, β). α = 0.7
 *   is the heterogeneity of Fader & Hardie's (2007) "regular" cohort (α = 0.704, β = 1.182);
 *   their renewals are yearly, so β is raised to 8 for monthly renewals: 8 % leave in the first
 *   month, half within a year, and the longer a subscriber stays the less likely she leaves.
 */
export const SYNTHETIC_MODELS = {
  bgnbdPerMonth: { r: 0.9, alpha: 2.2, a: 0.8, b: 3.5 },
  gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 * 3 },
  sbg: { alpha: 0.7, beta: 8 },
} as const;
const MONTH = 30.44 * 86_400_000;

type Raw = { at: number; source: string; type: string; detail: Record<string, unknown> };

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
const money = (x: number) => Math.round(x * 100) / 100;

export async function generate(options: GenerateOptions = {}): Promise<GeneratedData> {
  const n = options.customers ?? 5000;
  const seed = options.seed ?? 42;
  const now = options.now ? options.now.getTime() : Math.floor(Date.now() / DAY) * DAY;
  const runAt = options.runAt ?? options.now ?? new Date();
  const months = options.months ?? 18;
  const start = now - Math.round(months * 30.44) * DAY;
  const rnd = createRandom(seed);
  const raws: Raw[] = [];
  let seq = 0;
  const nextId = (prefix: string) => `${prefix}-${(++seq).toString(36).padStart(6, '0')}`;
  const stats: GeneratedData['stats'] = {
    customers: n,
    subscriptionCustomers: 0,
    adhocCustomers: 0,
    emailConsent: 0,
    events: 0,
    byType: {},
    duplicates: 0,
    outOfOrder: 0,
    malformed: { 'missing-field': 0, 'wrong-type': 0, 'unknown-detail-type': 0, 'not-json': 0, oversized: 0, 'bad-enum': 0, 'bad-timestamp': 0 },
    recentBillingComplaints: 0,
    deliverableBillingComplaints: 0,
  };

  const byCustomer = new Map<string, Raw[]>();
  for (let i = 1; i <= n; i++) {
    const customerId = `C${String(i).padStart(6, '0')}`;
    const mine: Raw[] = [];
    byCustomer.set(customerId, mine);
    const emit = (at: number, source: string, type: string, fields: Record<string, unknown>) => {
      if (at > now) return;
      const raw = { at, source, type, detail: { eventId: nextId('ev'), customerId, occurredAt: iso(at), ...fields } };
      raws.push(raw);
      mine.push(raw);
    };
    generateCustomer(rnd, { customerId, index: i, start, now, emit, nextId, stats });
  }

  // Replay order, as when a company starts: the history before the live window is loaded
  // customer by customer (an export per customer), then the live window follows in time
  // order. Then the producers' imperfections: some out of order, a few duplicates.
  const liveFrom = now - (options.liveDays ?? 14) * DAY;
  const replayOrder = (): { events: Raw[]; outOfOrder: number; duplicates: number } => {
    const byId = (a: Raw, b: Raw) => (a.detail.eventId as string).localeCompare(b.detail.eventId as string);
    raws.sort((a, b) => {
      const aLive = a.at >= liveFrom;
      const bLive = b.at >= liveFrom;
      if (aLive !== bLive) return aLive ? 1 : -1;
      if (!aLive) {
        const c = (a.detail.customerId as string).localeCompare(b.detail.customerId as string);
        if (c !== 0) return c;
      }
      return a.at - b.at || byId(a, b);
    });
    const ordered: Raw[] = raws.slice();
    let outOfOrder = 0;
    let duplicates = 0;
    for (let i = 0; i < ordered.length; i++) {
      if (rnd.chance(0.03)) {
        const j = Math.min(ordered.length - 1, i + rnd.int(1, 40));
        [ordered[i], ordered[j]] = [ordered[j], ordered[i]];
        outOfOrder++;
      }
    }
    const withDuplicates: Raw[] = [];
    const pendingDupes: { at: number; raw: Raw }[] = [];
    for (let i = 0; i < ordered.length; i++) {
      withDuplicates.push(ordered[i]);
      if (rnd.chance(0.005)) pendingDupes.push({ at: i + rnd.int(1, 25), raw: ordered[i] });
      for (let k = pendingDupes.length - 1; k >= 0; k--) {
        if (pendingDupes[k].at <= i) {
          withDuplicates.push(pendingDupes[k].raw);
          pendingDupes.splice(k, 1);
          duplicates++;
        }
      }
    }
    for (const d of pendingDupes) {
      withDuplicates.push(d.raw);
      duplicates++;
    }
    return { events: withDuplicates, outOfOrder, duplicates };
  };

  // The retention path must have work to do for every seed and size: the pure pipeline,
  // replaying the entries as the local run will, says which billing complaints get an email.
  const controlGroupPercent = options.controlGroupPercent ?? defaults.controlGroupPercent;
  const pipeline = { now: () => runAt, sendPolicy: { ...defaultSendPolicy, controlGroupPercent, controlGroupExperiment: options.controlGroupExperiment ?? defaultSendPolicy.controlGroupExperiment } };
  // Only customers with a billing complaint can have one emailed (customers are independent).
  const expectedPath = (events: Raw[]) => {
    const complainers = new Set(events.filter(isBillingComplaint).map((r) => r.detail.customerId));
    return billingPath(events.filter((r) => complainers.has(r.detail.customerId)).map(toBody), pipeline);
  };
  let replay = replayOrder();
  let paths = await expectedPath(replay.events);
  // The replay moves some events out of order, so an adjustment judged on one order can be
  // undone by the next one (a complaint's own poor resolution swapped before it, whose email
  // then holds the complaint's back): adjusted and replayed until it holds, a few times at most.
  for (let attempt = 0; attempt < 5 && !paths.some((p) => p.emailed); attempt++) {
    const { dropped, added } = await ensureDeliverableComplaint(byCustomer, now, pipeline, nextId, stats, replay.events);
    if (dropped.size) {
      for (let k = raws.length - 1; k >= 0; k--) if (dropped.has(raws[k])) raws.splice(k, 1);
    }
    raws.push(...added);
    replay = replayOrder();
    paths = await expectedPath(replay.events);
  }
  stats.recentBillingComplaints = paths.length;
  stats.deliverableBillingComplaints = paths.filter((p) => p.emailed).length;
  stats.outOfOrder = replay.outOfOrder;
  stats.duplicates = replay.duplicates;
  const withDuplicates = replay.events;

  const entries: GeneratedEntry[] = withDuplicates.map((r) => ({
    Source: r.source,
    DetailType: r.type,
    Detail: JSON.stringify(r.detail),
    Time: new Date(r.at),
  }));
  for (const r of withDuplicates) stats.byType[r.type] = (stats.byType[r.type] ?? 0) + 1;

  if (options.malformed ?? true) {
    const bad = malformedEntries(rnd, now, n, nextId);
    for (const b of bad) {
      stats.malformed[b.kind]++;
      // Spread them through the stream.
      entries.splice(rnd.int(0, entries.length), 0, b.entry);
    }
  }
  stats.events = entries.length;
  return { entries, stats };
}

type CustomerContext = {
  customerId: string;
  index: number;
  start: number;
  now: number;
  emit: (at: number, source: string, type: string, fields: Record<string, unknown>) => void;
  nextId: (prefix: string) => string;
  stats: GeneratedData['stats'];
};

function generateCustomer(rnd: Random, c: CustomerContext): void {
  const { start, now, emit, nextId } = c;
  const span = now - start;
  const first = rnd.pick(FIRST_NAMES);
  const last = rnd.pick(LAST_NAMES);
  const [timeZone, locale] = rnd.pick(ZONES);
  const isSubscription = rnd.chance(0.4);
  if (isSubscription) c.stats.subscriptionCustomers++;
  else c.stats.adhocCustomers++;
  // Sign-ups spread over the history, a little more in the early months (the existing base).
  const signup = start + Math.floor(Math.pow(rnd.next(), 1.3) * span * 0.92);
  // A subscriber's lifetime is drawn first (sBG): the ones who leave within the history or in
  // the three months after it are the customers at risk (their signals precede the churn).
  const lifetime = isSubscription ? subscriberLifetime(rnd, signup, now) : undefined;
  const atRisk = lifetime ? lifetime.endAt < now + 90 * DAY : rnd.chance(0.18);
  const preferredHour = rnd.int(8, 20);
  const email = `${first}.${last}.${c.index}`.toLowerCase().replace(/[^a-z0-9.]/g, '') + '@example.com';

  emit(signup, SOURCES.crm, 'CustomerProfileUpdated', {
    email,
    firstName: first,
    locale,
    timeZone,
    preferredChannel: rnd.chance(0.85) ? 'email' : rnd.pick(['sms', 'push', 'phone'] as const),
    preferredHour,
    customerType: isSubscription ? 'subscription' : 'adhoc',
  });
  if (rnd.chance(0.15)) {
    emit(signup + rnd.next() * (now - signup), SOURCES.crm, 'CustomerProfileUpdated', { preferredHour: (preferredHour + rnd.int(1, 6)) % 24 });
  }

  // Consent: most grant email marketing when signing up; some decline; a few withdraw later.
  let consented = rnd.chance(0.82);
  emit(signup + 60_000, SOURCES.crm, 'ConsentChanged', { channel: 'email', purpose: 'marketing', granted: consented });
  if (consented && rnd.chance(0.05)) {
    emit(signup + rnd.next() * (now - signup), SOURCES.crm, 'ConsentChanged', { channel: 'email', purpose: 'marketing', granted: false });
    consented = false;
  }
  if (rnd.chance(0.15)) emit(signup + 120_000, SOURCES.crm, 'ConsentChanged', { channel: 'sms', purpose: 'marketing', granted: rnd.chance(0.5) });
  if (consented) c.stats.emailConsent++;

  if (lifetime) subscriptionLife(rnd, c, lifetime, atRisk);
  if (!isSubscription || rnd.chance(0.2)) adhocPurchases(rnd, c, signup);

  // Support calls: a Poisson process, more often for customers at risk.
  const monthsActive = (now - signup) / (30.44 * DAY);
  const calls = rnd.poisson(monthsActive * (atRisk ? 0.22 : 0.06));
  for (let k = 0; k < calls; k++) {
    const at = signup + rnd.next() * (now - signup);
    supportCall(rnd, c, at, rnd.weighted(REASON_WEIGHTS));
  }
  // Recent billing complaints from some customers who allow email: the retention path must have work to do.
  if (consented && (rnd.chance(atRisk ? 0.12 : 0.02) || c.index === 1)) {
    const at = now - rnd.int(1, 13) * DAY - rnd.int(0, 86_399) * 1000;
    supportCall(rnd, c, at, 'billing');
  }
  void nextId;
}

const isBillingComplaint = (r: Raw) => r.type === 'SupportCallLogged' && r.detail.reason === 'billing';
const isEmailMarketingConsent = (r: Raw) => r.type === 'ConsentChanged' && r.detail.channel === 'email' && r.detail.purpose === 'marketing';
/** The ingest queue's message body for a generated event, as the bus delivers it. */
const toBody = (r: Raw): string => busEnvelope({ Source: r.source, DetailType: r.type, Detail: JSON.stringify(r.detail), Time: new Date(r.at) }, String(r.detail.eventId))!;

/**
 * Makes one recent billing complaint deliverable, deterministically: the last
 * customer outside the control group (preferring one who already complained
 * about billing recently) gets preferred channel email, email marketing consent
 * (a withdrawal is dropped) and a billing complaint two days ago if they have no
 * fresh one. Then the customer's events are run through the pure pipeline, in the
 * order of the last replay (`replayed`; added events after it, in time order): while
 * the complaint's email is held back by an earlier send (cooldown, weekly cap), the
 * events that fired those sends are dropped. Returns the events it dropped and added.
 */
async function ensureDeliverableComplaint(
  byCustomer: Map<string, Raw[]>,
  now: number,
  pipeline: { now: () => Date; sendPolicy: typeof defaultSendPolicy },
  nextId: (prefix: string) => string,
  stats: GeneratedData['stats'],
  replayed: readonly Raw[],
): Promise<{ dropped: Set<Raw>; added: Raw[] }> {
  const dropped = new Set<Raw>();
  const added: Raw[] = [];
  // Two days' margin inside the freshness window, for a run that goes on after `runAt`.
  const freshFrom = pipeline.now().getTime() - (triggerConfig.maxEventAgeDays - 2) * DAY;
  const eligible = [...byCustomer].filter(([id]) => !inControlGroup(id, 'retention-save', pipeline.sendPolicy.controlGroupPercent, pipeline.sendPolicy.controlGroupExperiment));
  const chosen = eligible.findLast(([, mine]) => mine.some((r) => isBillingComplaint(r) && r.at >= freshFrom)) ?? eligible.at(-1);
  if (!chosen) return { dropped, added }; // everyone is in the control group: no retention email can go out
  const [customerId, mine] = chosen;
  const remove = (r: Raw) => {
    if (dropped.has(r)) return;
    dropped.add(r);
    mine.splice(mine.indexOf(r), 1);
  };
  const add = (r: Raw) => {
    added.push(r);
    mine.push(r);
  };

  const profiles = mine.filter((r) => r.type === 'CustomerProfileUpdated');
  for (const p of profiles) if (p.detail.preferredChannel !== undefined) p.detail.preferredChannel = 'email';

  const consents = mine.filter(isEmailMarketingConsent).sort((a, b) => a.at - b.at);
  const consentedBefore = consents.at(-1)?.detail.granted === true;
  if (consents.length) {
    consents[0].detail.granted = true;
    for (const r of consents.slice(1)) if (r.detail.granted !== true) remove(r);
  } else {
    const at = (profiles[0]?.at ?? now - 60 * DAY) + 60_000;
    add({ at, source: SOURCES.crm, type: 'ConsentChanged', detail: { eventId: nextId('ev'), customerId, occurredAt: iso(at), channel: 'email', purpose: 'marketing', granted: true } });
  }
  if (!consentedBefore) stats.emailConsent++;

  let complaint = mine.filter((r) => isBillingComplaint(r) && r.at >= freshFrom).sort((a, b) => a.at - b.at).at(-1);
  if (!complaint) {
    const at = now - 2 * DAY + 10 * 3_600_000;
    complaint = { at, source: SOURCES.support, type: 'SupportCallLogged', detail: { eventId: nextId('ev'), customerId, occurredAt: iso(at), callId: nextId('call'), reason: 'billing', channel: 'phone' } };
    add(complaint);
  }
  const complaintId = complaint.detail.eventId as string;
  // The customer's events in the order of the last replay (duplicates included), then the added ones in time order.
  const inReplayOrder = (): Raw[] => {
    const current = new Set(mine);
    const replayedSet = new Set(replayed);
    return [...replayed.filter((r) => current.has(r)), ...mine.filter((r) => !replayedSet.has(r)).sort((a, b) => a.at - b.at)];
  };
  for (let attempt = 0; attempt < 10; attempt++) {
    const p = createPipeline(pipeline);
    await p.run(inReplayOrder().map(toBody));
    const k = p.campaignResults.findIndex((r) => r.trigger.sourceEventIds.includes(complaintId));
    if (k < 0 || p.campaignResults[k]!.outcome.outcome === 'sent') break;
    // Sends (and control holds) of the customer decided before it put the cooldown or the cap on it.
    const blocking = new Set(p.campaignResults.slice(0, k).filter((r) => r.outcome.outcome === 'sent' || r.outcome.outcome === 'control').flatMap((r) => r.trigger.sourceEventIds));
    const blockers = mine.filter((r) => r !== complaint && blocking.has(r.detail.eventId as string));
    if (blockers.length === 0) break;
    const droppedCalls = new Set(blockers.filter((r) => r.type === 'SupportCallLogged').map((r) => r.detail.callId));
    for (const r of blockers) remove(r);
    for (const r of mine.filter((r) => r.type === 'SupportCallResolved' && droppedCalls.has(r.detail.callId))) remove(r);
  }
  return { dropped, added };
}

function supportCall(rnd: Random, c: CustomerContext, at: number, reason: string): void {
  const callId = c.nextId('call');
  c.emit(at, SOURCES.support, 'SupportCallLogged', { callId, reason, channel: rnd.weighted({ phone: 6, chat: 3, email: 2, store: 1 }) });
  if (rnd.chance(0.9)) {
    // Median half an hour; a long tail of calls that take days.
    const minutes = Math.round(rnd.chance(0.08) ? rnd.logNormal(3 * 24 * 60, 0.5) : rnd.logNormal(30, 0.9));
    c.emit(at + minutes * 60_000, SOURCES.support, 'SupportCallResolved', { callId, resolutionMinutes: minutes, resolved: rnd.chance(0.88) });
  }
}

/** A subscriber's first subscription starts an hour after sign-up; she leaves at `endAt` (Infinity: not before three months after the history). */
type Lifetime = { startedAt: number; endAt: number };

/**
 * The sBG draw: θ ~ Beta(α, β), then at each monthly renewal decision the subscriber leaves
 * with probability θ (as shared/clv/simulate.ts's simulateTenures). Leaving at decision t
 * cancels 3 to 4.5 days before the t-th renewal (after t − 1 renewals, clear of the drift
 * between 30.44-day months and the calendar months the profile summary counts). Cancelling
 * just before being charged again, rather than at any time in the month, keeps the data what
 * the sBG sees: a subscriber observed with m whole months has made m renewal decisions, and
 * a churn at decision m + 1 shows only once month m + 1 is almost over (cancellations
 * anywhere in the month overstate the churn at the last observed decision, and so the
 * fitted α and β). Only decisions until three months after the history are drawn.
 */
function subscriberLifetime(rnd: Random, signup: number, now: number): Lifetime {
  const { alpha, beta } = SYNTHETIC_MODELS.sbg;
  const theta = rnd.beta(alpha, beta);
  const startedAt = signup + 3_600_000;
  const decisions = Math.ceil((now + 90 * DAY - startedAt) / MONTH);
  for (let t = 1; t <= decisions; t++) {
    if (rnd.chance(theta)) return { startedAt, endAt: startedAt + (t - 0.15 + 0.05 * rnd.next()) * MONTH };
  }
  return { startedAt, endAt: Infinity };
}

function subscriptionLife(rnd: Random, c: CustomerContext, lifetime: Lifetime, atRisk: boolean): void {
  const { now, emit, nextId } = c;
  const count = rnd.chance(0.3) ? 2 : 1;
  const products = [...PRODUCTS].sort(() => rnd.next() - 0.5).slice(0, count);
  products.forEach((product, k) => {
    const subscriptionId = nextId('sub');
    // The first subscription lasts the customer's lifetime; an add-on starts later and ends
    // with her, or (a quarter of them) is dropped before, and never outlasts the first.
    const startedAt = lifetime.startedAt + k * rnd.int(0, 120) * DAY;
    const customerEnd = k === 0 ? lifetime.endAt : lifetime.endAt - DAY;
    if (startedAt >= Math.min(now, customerEnd)) return;
    let [plan, price] = rnd.pick(product.plans);
    emit(startedAt, SOURCES.billing, 'SubscriptionStarted', { subscriptionId, productId: product.productId, plan, monthlyPrice: price, currency: 'EUR' });
    const dropped = k > 0 && rnd.chance(0.25) ? startedAt + rnd.next() * (Math.min(now + 90 * DAY, customerEnd) - startedAt) : Infinity;
    const endAt = Math.min(now, customerEnd, dropped);
    const cancelled = endAt < now;
    // Plan changes.
    if (rnd.chance(0.2)) {
      const at = startedAt + rnd.next() * (endAt - startedAt);
      const [newPlan, newPrice] = rnd.pick(product.plans);
      if (newPlan !== plan) {
        emit(at, SOURCES.billing, 'SubscriptionChanged', {
          subscriptionId,
          productId: product.productId,
          plan: newPlan,
          monthlyPrice: newPrice,
          currency: 'EUR',
          change: newPrice > price ? 'upgrade' : 'downgrade',
        });
        [plan, price] = [newPlan, newPrice];
      }
    }
    // Usage: some products are held and never used; some decline in the last months.
    const neverUsed = rnd.chance(0.12);
    const declining = !neverUsed && (atRisk ? rnd.chance(0.5) : rnd.chance(0.08));
    const level = rnd.logNormal(product.usage, 0.5);
    let adopted = false;
    const monthsTotal = Math.floor((endAt - startedAt) / (30.44 * DAY));
    for (let m = 1; m <= monthsTotal; m++) {
      const at = startedAt + m * 30.44 * DAY;
      emit(at, SOURCES.billing, 'InvoiceIssued', {
        invoiceId: nextId('st'),
        kind: 'statement',
        amount: money(price),
        currency: 'EUR',
        dueDate: new Date(at + 14 * DAY).toISOString().slice(0, 10),
      });
      if (rnd.chance(atRisk ? 0.08 : 0.01)) {
        emit(at + 15 * DAY, SOURCES.billing, 'PaymentFailed', { paymentId: nextId('pay'), amount: money(price), currency: 'EUR', reason: rnd.pick(['insufficient funds', 'card expired', 'mandate revoked']) });
      }
      if (neverUsed) continue;
      const monthsLeft = monthsTotal - m;
      const decay = declining && monthsLeft < 4 ? Math.pow(0.55, 4 - monthsLeft) : 1;
      const quantity = Math.max(0, Math.round(level * decay * (0.85 + 0.3 * rnd.next()) * 10) / 10);
      if (!adopted && quantity > 0) {
        emit(at - 20 * DAY, SOURCES.usage, 'ProductAdopted', { productId: product.productId });
        adopted = true;
      }
      emit(at, SOURCES.usage, 'UsageRecorded', { productId: product.productId, quantity, unit: product.unit });
    }
    if (cancelled) {
      emit(endAt, SOURCES.billing, 'SubscriptionCancelled', {
        subscriptionId,
        productId: product.productId,
        reason: rnd.pick(['too expensive', 'moving', 'switching provider', 'not using it', 'service quality']),
        allowWinbackContact: rnd.chance(0.6),
      });
    }
  });
}

function adhocPurchases(rnd: Random, c: CustomerContext, signup: number): void {
  const { now, emit, nextId } = c;
  // BG/NBD: purchase rate λ ~ Gamma(r, 1/α) per month; after each purchase the buyer drops out with p ~ Beta(a, b).
  const { r, alpha, a, b } = SYNTHETIC_MODELS.bgnbdPerMonth;
  const lambda = rnd.gamma(r, 1 / alpha);
  const dropout = rnd.beta(a, b);
  // Gamma-Gamma: the buyer's ν ~ Gamma(q, rate γ); each order's amount ~ Gamma(p, rate ν).
  const gg = SYNTHETIC_MODELS.gammaGamma;
  const nu = rnd.gamma(gg.q, 1 / gg.gamma);
  let t = signup + rnd.int(0, 10) * DAY;
  for (let k = 0; k < 40 && t < now; k++) {
    const orderId = nextId('ord');
    // The items' list prices, scaled so the order comes to the amount drawn for it.
    const spend = rnd.gamma(gg.p, 1 / nu);
    const listed = Array.from({ length: rnd.int(1, 3) }, () => {
      const [category, price, code] = rnd.pick(CATEGORIES);
      return { sku: `${code}-${rnd.int(100, 999)}`, quantity: rnd.chance(0.85) ? 1 : rnd.int(2, 4), price: rnd.logNormal(price, 0.35), category };
    });
    const scale = spend / listed.reduce((s, it) => s + it.quantity * it.price, 0);
    const items = listed.map((it) => ({ ...it, price: Math.max(0.01, money(it.price * scale)) }));
    const amount = money(items.reduce((s, it) => s + it.quantity * it.price, 0));
    emit(t, SOURCES.orders, 'OrderPlaced', { orderId, amount, currency: 'EUR', items });
    if (rnd.chance(0.2)) {
      emit(t + 60_000, SOURCES.billing, 'InvoiceIssued', { invoiceId: nextId('inv'), kind: 'invoice', amount, currency: 'EUR', dueDate: new Date(t + 30 * DAY).toISOString().slice(0, 10) });
    }
    const age = now - t;
    if (rnd.chance(0.02)) {
      emit(t + 2 * 3_600_000, SOURCES.orders, 'OrderStatusChanged', { orderId, status: 'cancelled' });
    } else if (rnd.chance(0.04) || age < 2 * DAY) {
      // Stuck in preparing (or simply recent).
      emit(t + 3_600_000, SOURCES.orders, 'OrderStatusChanged', { orderId, status: 'preparing' });
    } else {
      // Most shops only report the final status; some also report shipping.
      if (rnd.chance(0.3)) emit(t + rnd.int(1, 2) * DAY, SOURCES.orders, 'OrderStatusChanged', { orderId, status: 'shipped' });
      const delivered = t + rnd.int(2, 5) * DAY;
      emit(delivered, SOURCES.orders, 'OrderStatusChanged', { orderId, status: 'delivered' });
      if (rnd.chance(0.08)) {
        emit(delivered + rnd.int(1, 14) * DAY, SOURCES.orders, 'OrderReturned', {
          orderId,
          amount: money(amount * (rnd.chance(0.7) ? 1 : 0.5)),
          currency: 'EUR',
          reason: rnd.pick(['damaged', 'not as described', 'changed mind', 'wrong size']),
        });
      }
    }
    // BG/NBD: a buyer can drop out after a repeat purchase, not after the first (x = 0 means alive).
    if (k > 0 && rnd.chance(dropout)) break;
    t += rnd.exponential(Math.max(lambda, 0.01)) * 30.44 * DAY;
  }
}

function malformedEntries(rnd: Random, now: number, customers: number, nextId: (p: string) => string): { kind: MalformedKind; entry: GeneratedEntry }[] {
  const out: { kind: MalformedKind; entry: GeneratedEntry }[] = [];
  const cust = () => `C${String(rnd.int(1, Math.max(1, customers))).padStart(6, '0')}`;
  const at = () => iso(now - rnd.int(1, 300) * DAY);
  const add = (kind: MalformedKind, Source: string, DetailType: string, Detail: string) => out.push({ kind, entry: { Source, DetailType, Detail } });
  for (let k = 0; k < 2; k++) {
    add('missing-field', SOURCES.support, 'SupportCallLogged', JSON.stringify({ eventId: nextId('bad'), customerId: cust(), occurredAt: at(), reason: 'billing' }));
    add('wrong-type', SOURCES.orders, 'OrderPlaced', JSON.stringify({ eventId: nextId('bad'), customerId: cust(), occurredAt: at(), orderId: 'o-x', amount: '12.50', currency: 'EUR' }));
    add('unknown-detail-type', SOURCES.crm, 'CustomerSneezed', JSON.stringify({ eventId: nextId('bad'), customerId: cust(), occurredAt: at() }));
    add('not-json', SOURCES.orders, 'OrderPlaced', `{"eventId": "${nextId('bad')}", "customerId": "${cust()}", `);
    add('bad-enum', SOURCES.support, 'SupportCallLogged', JSON.stringify({ eventId: nextId('bad'), customerId: cust(), occurredAt: at(), callId: 'k-x', reason: 'furious' }));
    add('bad-timestamp', SOURCES.usage, 'UsageRecorded', JSON.stringify({ eventId: nextId('bad'), customerId: cust(), occurredAt: '03/04/2025 10:00', productId: 'mobile', quantity: 3, unit: 'GB' }));
  }
  add('oversized', SOURCES.crm, 'CustomerProfileUpdated', JSON.stringify({ eventId: nextId('bad'), customerId: cust(), occurredAt: at(), notes: 'x'.repeat(300 * 1024) }));
  return out;
}
