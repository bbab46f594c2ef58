/**
 * The nightly run's steps over the in-memory ports, on the CDNOW sample as stored profiles:
 * several invocations per segment resuming from checkpoints, a rerun of a night that writes,
 * emits and assigns nothing, a quiet second night, triggers, failed segments.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { InMemoryCustomerStore, InMemoryEventPublisher, InMemoryScoringStore } from '../../../shared/pipeline/in-memory-ports.ts';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { allScoringShards, scoringShard } from '../../../shared/data-model/keys.ts';
import { defaultScoringConfig as config, emptyScorePart, nightPasses, parseScoringConfig, scoreSegment, runDateOf, type NightlyDeps, type ScorePart } from '../../../shared/scoring/index.ts';
import { runNight } from '../../support/nightly.ts';
import { cdnowProfiles } from './helpers.ts';

function world() {
  const customers = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
  for (const p of cdnowProfiles('1997-10-01').values()) customers.loadProfile(p);
  const store = new InMemoryScoringStore(customers);
  const publisher = new InMemoryEventPublisher();
  let t = Date.parse('1997-10-01T02:00:00Z');
  const deps: NightlyDeps = { store, publisher, config, now: () => new Date((t += 7)) };
  return { customers, store, publisher, deps };
}

/** The `nth` publish of an OutreachPlanned fails (once); the others go through. */
function failOutreachPublish(w: ReturnType<typeof world>, nth: number): void {
  const publish = w.publisher.publish.bind(w.publisher);
  let outreachPublishes = 0;
  w.publisher.publish = async (events) => {
    if (events.some((e) => e.detailType === 'OutreachPlanned') && ++outreachPublishes === nth) throw new Error('PutEvents failed');
    return publish(events);
  };
}

const night1 = { runId: 'run-1997-09-30', runDate: '1997-09-30' };
const night2 = { runId: 'run-1997-10-01', runDate: '1997-10-01' };

describe('the nightly run over the in-memory ports (CDNOW sample)', () => {
  const w = world();
  let first: Awaited<ReturnType<typeof runNight>>;
  let rerun: Awaited<ReturnType<typeof runNight>>;
  let second: Awaited<ReturnType<typeof runNight>>;
  const counts = { rescored: 0, planned: 0, completed: 0, written: 0 };
  const afterRerun = { rescored: 0, planned: 0, written: 0 };
  beforeAll(async () => {
    first = await runNight(w.deps, night1, { pageSize: 25, pagesPerInvocation: 2 });
    counts.rescored = w.publisher.ofType('CustomerRescored').length;
    counts.planned = w.publisher.ofType('OutreachPlanned').length;
    counts.completed = w.publisher.ofType('NightlyRunCompleted').length;
    counts.written = w.store.calls.scoresWritten;
    rerun = await runNight(w.deps, night1, { pageSize: 40, pagesPerInvocation: 1 });
    afterRerun.planned = w.publisher.ofType('OutreachPlanned').length;
    afterRerun.rescored = w.publisher.ofType('CustomerRescored').length;
    afterRerun.written = w.store.calls.scoresWritten;
    second = await runNight(w.deps, night2);
  });

  it('night 1 scores, writes and emits every customer, over many resumed invocations', () => {
    expect(first.summary).toMatchObject({ customersRead: 2357, written: 2357, emitted: 2357, unchanged: 0, skipped: 0, failed: 0, failedSegments: [] });
    expect(first.invocations).toBeGreaterThan(2 * 32 + 10);
    expect(counts).toEqual({ rescored: 2357, planned: first.outreach.treated, completed: 1, written: 2357 });
    expect(first.model.fit.status).toBe('fitted');
    expect(first.model.reused).toBe(false);
    const s = w.store.storedScore('1')!;
    expect(s).toMatchObject({ customerId: '1', modelId: 'run-1997-09-30', scoredOn: '1997-09-30' });
  });

  it('plans the top 200 at-risk customers by CLV, split into two groups, and says so in the run summary event', () => {
    expect(first.outreach).toMatchObject({ period: '1997-09', quota: 200, planned: 200, created: 200 });
    expect(first.outreach.treated).toBeGreaterThan(60);
    expect(first.outreach.treated).toBeLessThan(140);
    const done = w.publisher.ofType('NightlyRunCompleted')[0]!;
    expect(done).toMatchObject({ runId: 'run-1997-09-30', modelId: 'run-1997-09-30', fitStatus: 'fitted', alarm: false, customersRead: 2357, written: 2357, outreach: { planned: 200 } });
    expect(done.models.bgnbd).toMatchObject({ source: 'tonight', params: { r: expect.any(Number), alpha: expect.any(Number) } });
    expect(Object.keys(done.durations).sort()).toEqual(['finish', 'gather', 'score']);
  });

  it('a rerun of the night reuses its model and writes, emits and assigns nothing', () => {
    expect(rerun.model.reused).toBe(true);
    expect(rerun.summary).toMatchObject({ customersRead: 2357, written: 0, emitted: 0, unchanged: 2357 });
    expect(rerun.outreach).toMatchObject({ planned: 200, created: 0 });
    expect(afterRerun).toEqual({ planned: counts.planned, rescored: counts.rescored, written: counts.written });
  });

  it('a second night without new events writes under 1 %, keeps the previous model as its prior, plans October', () => {
    expect(second.summary.customersRead).toBe(2357);
    expect(second.summary.written).toBeLessThan(2357 * 0.01);
    expect(w.store.calls.scoresWritten).toBe(counts.written + second.summary.written);
    expect(w.publisher.ofType('CustomerRescored')).toHaveLength(counts.rescored + second.summary.emitted);
    expect(second.outreach).toMatchObject({ period: '1997-10', quota: 6, created: 6 });
  });
});

describe('scoreSegment', () => {
  it('resumed from its checkpoints gives what one invocation gives', async () => {
    const [a, b] = [world(), world()];
    await runNight(a.deps, night1, { scoreSegments: [] });
    await runNight(b.deps, night1, { scoreSegments: [] });
    // fitted on everybody, nobody scored yet
    const model = (await a.store.getModel(night1.runId, night1.runDate))!;
    expect(model.bgnbd).toBeDefined();
    const input = { night: night1, model, keep: 50, segment: scoringShard('1') };
    const whole = await scoreSegment(b.deps, { ...input, budget: { pageSize: 1000 } });
    expect(whole.next).toBeUndefined();
    expect(whole.summary.customersRead).toBeGreaterThan(30);
    let part: ScorePart = emptyScorePart();
    let cursor;
    let calls = 0;
    do {
      const out = JSON.parse(JSON.stringify(await scoreSegment(a.deps, { ...input, part, cursor, budget: { pageSize: 7, shouldStop: () => true } })));
      part = { summary: out.summary, top: out.top };
      cursor = out.next;
      calls++;
    } while (cursor);
    expect(calls).toBeGreaterThan(3);
    const { durations: _a, ...counted } = part.summary;
    const { durations: _b, ...once } = whole.summary;
    expect(counted).toEqual(once);
    expect(part.top).toEqual(whole.top);
  });

  it("publishes a customer's CustomerRescored before her score is written: a failed publish leaves its customers unwritten, and the retry publishes them (at least once, never lost)", async () => {
    const w = world();
    await runNight(w.deps, night1, { scoreSegments: [] });
    const model = (await w.store.getModel(night1.runId, night1.runDate))!;
    const segment = scoringShard('1');
    const published = new Map<string, number>();
    const publish = w.publisher.publish.bind(w.publisher);
    let rescoredPublishes = 0;
    w.publisher.publish = async (events) => {
      if (events.some((e) => e.detailType === 'CustomerRescored') && ++rescoredPublishes === 2) throw new Error('PutEvents failed');
      await publish(events);
      for (const { customerId } of events.map((e) => e.detail as { customerId: string })) published.set(customerId, (published.get(customerId) ?? 0) + 1);
    };
    const writeScores = w.store.writeScores.bind(w.store);
    const writtenBeforePublished: string[] = [];
    w.store.writeScores = async (scores) => {
      for (const s of scores) if (!published.has(s.customerId)) writtenBeforePublished.push(s.customerId);
      return writeScores(scores);
    };
    const score = () => scoreSegment(w.deps, { night: night1, model, keep: 0, segment, budget: { pageSize: 1000 } });
    await expect(score()).rejects.toThrow('PutEvents failed');
    const ids = [...cdnowProfiles().keys()].filter((id) => scoringShard(id) === segment);
    expect(ids.length).toBeGreaterThan(60); // more than one group of customers
    const writtenFirst = ids.filter((id) => w.store.storedScore(id));
    expect(writtenFirst.length).toBeLessThan(ids.length);
    const publishedFirst = new Set(published.keys());
    const retried = await score();
    expect(retried.summary).toMatchObject({ written: ids.length - writtenFirst.length, emitted: ids.length - writtenFirst.length });
    expect(writtenBeforePublished).toEqual([]);
    for (const id of ids) {
      expect(w.store.storedScore(id)).toBeDefined();
      // twice only if published and not written by the failed attempt
      expect(published.get(id)).toBe(publishedFirst.has(id) && !writtenFirst.includes(id) ? 2 : 1);
    }
  });

  it('adds up the write units of every group of a page, the groups written at once', async () => {
    const w = world();
    await runNight(w.deps, night1, { scoreSegments: [] });
    const model = (await w.store.getModel(night1.runId, night1.runDate))!;
    const writeScores = w.store.writeScores.bind(w.store);
    let calls = 0;
    // two units a score, the answers coming back out of order
    w.store.writeScores = async (scores) => {
      await new Promise((r) => setTimeout(r, 5 * (3 - (calls++ % 3))));
      await writeScores(scores);
      return { consumedWriteUnits: 2 * scores.length };
    };
    const out = await scoreSegment(w.deps, { night: night1, model, keep: 0, segment: scoringShard('1'), budget: { pageSize: 1000 } });
    expect(calls).toBeGreaterThan(1);
    expect(out.summary.written).toBeGreaterThan(60);
    expect(out.summary.consumedWriteUnits).toBe(2 * out.summary.written);
  });

  it("raises a customer's churn risk with a recent trigger (and only with a recent one)", async () => {
    const w = world();
    await runNight(w.deps, night1);
    const model = (await w.store.getModel(night1.runId, night1.runDate))!;
    const ids = [...cdnowProfiles().keys()];
    const id = ids.reduce((best, x) => (w.store.storedScore(x)!.churnRisk < w.store.storedScore(best)!.churnRisk ? x : best));
    const risk0 = w.store.storedScore(id)!.churnRisk;
    expect(risk0).toBeLessThan(0.5);
    const trigger = { customerId: id, rule: 'payment-failed', kind: 'single' as const, action: 'retention-save' as const, reasons: ['x'], churnRiskBoost: 0.5, sourceEventIds: ['e'] };
    await w.customers.recordTrigger({ ...trigger, triggerId: 'old', rule: 'old-rule' }, new Date('1997-05-01T00:00:00Z'));
    const rescore = () => scoreSegment(w.deps, { night: night1, model, keep: 0, segment: scoringShard(id), budget: { pageSize: 1000 } });
    expect((await rescore()).summary.written).toBe(0); // a trigger older than 90 days does not count
    await w.customers.recordTrigger({ ...trigger, triggerId: 'new' }, new Date('1997-09-29T00:00:00Z'));
    const after = await rescore();
    expect(after.summary.written).toBe(1);
    expect(w.store.storedScore(id)!.activeTriggerRules).toEqual(['payment-failed']);
    expect(w.store.storedScore(id)!.churnRisk).toBeGreaterThan(risk0 + 0.1);
  });
});

describe('finishing a night', () => {
  it('names the failed segments in the summary', async () => {
    const w = world();
    const shards = allScoringShards();
    const result = await runNight(w.deps, night1, { segments: shards.slice(0, 30) });
    expect(result.summary.customersRead).toBeLessThan(2357);
    const { finishNight } = await import('../../../shared/scoring/index.ts');
    const again = await finishNight(w.deps, { night: night1, model: result.model, parts: [], failedSegments: shards.slice(30) });
    expect(again.summary.failedSegments).toEqual(shards.slice(30));
    expect(w.publisher.ofType('NightlyRunCompleted').at(-1)!.failedSegments).toEqual(shards.slice(30));
  });

  it('publishes an OutreachPlanned whose publish failed on the rerun, once, the same event (deduplicable by planId)', async () => {
    const w = world();
    // the fifth OutreachPlanned fails: the four before are published and marked, the rest are stored but not published
    failOutreachPublish(w, 5);
    await expect(runNight(w.deps, night1)).rejects.toThrow('PutEvents failed');
    const stored = await w.store.outreachAssignments(config.outreach.experimentId, '1997-09');
    const treated = stored.filter((a) => a.group === 'treatment');
    expect(stored).toHaveLength(200);
    expect(treated.filter((a) => a.publishedAt)).toHaveLength(4);
    expect(w.publisher.ofType('OutreachPlanned')).toHaveLength(4);
    const rerun = await runNight(w.deps, night1);
    expect(rerun.outreach).toMatchObject({ planned: 200, created: 0 });
    const events = w.publisher.ofType('OutreachPlanned');
    expect(new Set(events.map((e) => e.planId)).size).toBe(treated.length);
    expect(events).toHaveLength(treated.length); // the four published ones are not published again
    const byPlan = new Map(treated.map((a) => [a.planId, a]));
    for (const e of events) expect(e).toEqual({ planId: e.planId, customerId: byPlan.get(e.planId)!.customerId, group: 'treatment', rank: byPlan.get(e.planId)!.rank, plannedAt: byPlan.get(e.planId)!.plannedAt, schemaVersion: 1 });
    expect((await w.store.outreachAssignments(config.outreach.experimentId, '1997-09')).filter((a) => a.group === 'treatment' && !a.publishedAt)).toEqual([]);
    await runNight(w.deps, night1);
    expect(w.publisher.ofType('OutreachPlanned')).toHaveLength(treated.length);
  });

  it("publishes an OutreachPlanned that failed on a month's last night on the next night, in the new month", async () => {
    const w = world();
    failOutreachPublish(w, 3);
    // 1997-09-30 is September's last night: two treated published, the rest stored unpublished
    await expect(runNight(w.deps, night1)).rejects.toThrow('PutEvents failed');
    const september = async () => (await w.store.outreachAssignments(config.outreach.experimentId, '1997-09')).filter((a) => a.group === 'treatment');
    const treated = await september();
    expect(treated.filter((a) => a.publishedAt)).toHaveLength(2);
    expect((await w.store.unpublishedOutreach()).map((a) => a.planId).sort()).toEqual(treated.filter((a) => !a.publishedAt).map((a) => a.planId).sort());
    // the next night plans October and publishes September's leftovers too, each once
    const october = await runNight(w.deps, night2);
    expect(october.outreach.period).toBe('1997-10');
    const octoberTreated = (await w.store.outreachAssignments(config.outreach.experimentId, '1997-10')).filter((a) => a.group === 'treatment');
    const events = w.publisher.ofType('OutreachPlanned');
    expect(events.map((e) => e.planId).sort()).toEqual([...treated, ...octoberTreated].map((a) => a.planId).sort());
    expect((await september()).filter((a) => !a.publishedAt)).toEqual([]);
    expect(await w.store.unpublishedOutreach()).toEqual([]);
    await runNight(w.deps, night2);
    expect(w.publisher.ofType('OutreachPlanned')).toHaveLength(events.length);
  });

  it('a failed mark stops the publishing once the marks in flight are done; the rerun publishes the unmarked ones again, the same events', async () => {
    const w = world();
    const mark = w.store.markOutreachPublished.bind(w.store);
    let marks = 0;
    w.store.markOutreachPublished = async (a, at) => {
      if (++marks === 5) throw new Error('TransactWriteItems failed');
      return mark(a, at);
    };
    await expect(runNight(w.deps, night1)).rejects.toThrow('TransactWriteItems failed');
    const treated = (await w.store.outreachAssignments(config.outreach.experimentId, '1997-09')).filter((a) => a.group === 'treatment');
    const published = new Set(w.publisher.ofType('OutreachPlanned').map((e) => e.planId));
    const marked = treated.filter((a) => a.publishedAt);
    // marked only once published, published in order (the first four marked), and stopped long before the last
    expect(marked.length).toBeGreaterThanOrEqual(4);
    for (const a of marked) expect(published.has(a.planId)).toBe(true);
    expect(published.size).toBeLessThan(treated.length);
    expect(published.size).toBe(w.publisher.ofType('OutreachPlanned').length);
    const first = new Map(w.publisher.ofType('OutreachPlanned').map((e) => [e.planId, e]));
    await runNight(w.deps, night1);
    const events = w.publisher.ofType('OutreachPlanned');
    expect(new Set(events.map((e) => e.planId))).toEqual(new Set(treated.map((a) => a.planId)));
    // again only those published and not marked (at least once: the same event, deduplicable by its planId)
    expect(events.length).toBe(treated.length + published.size - marked.length);
    for (const e of events) expect(e).toEqual(first.get(e.planId) ?? e);
    expect((await w.store.outreachAssignments(config.outreach.experimentId, '1997-09')).filter((a) => a.group === 'treatment' && !a.publishedAt)).toEqual([]);
  });

  it('a rerun that reuses a degraded model reports its fit as the first attempt did: the fallbacks, their reasons and the alarm', async () => {
    const w = world();
    const deps: NightlyDeps = { ...w.deps, config: { ...config, fit: { ...config.fit, minAdHocCustomers: 1_000_000 } } };
    const first = await runNight(deps, night1, { scoreSegments: [] });
    expect(first.model.reused).toBe(false);
    expect(first.model.fit).toMatchObject({ status: 'degraded', alarm: true, components: { bgnbd: { source: 'none', reason: expect.stringContaining('too few ad-hoc buyers') } } });
    const rerun = await runNight(deps, night1, { scoreSegments: [] });
    expect(rerun.model.reused).toBe(true);
    expect(rerun.model.fit).toEqual(first.model.fit);
    const summaries = w.publisher.ofType('NightlyRunCompleted').map((e) => [e.fitStatus, e.alarm, e.models.bgnbd.reason]);
    expect(summaries).toHaveLength(2);
    expect(summaries[1]).toEqual(summaries[0]);
    expect(summaries[0]).toEqual(['degraded', true, expect.stringContaining('too few ad-hoc buyers')]);
  });

  it('scores the day before the scheduled time', () => {
    expect(runDateOf('2026-12-01T02:00:00Z')).toBe('2026-11-30');
  });
});

describe('one pass or two (nightPasses)', () => {
  const w = world();
  let model: Awaited<ReturnType<typeof w.store.getModel>>;
  beforeAll(async () => {
    await runNight(w.deps, night1, { scoreSegments: [] });
    model = (await w.store.getModel(night1.runId, night1.runDate))!;
  });
  const at = (days: number) => new Date(Date.parse(`${night1.runDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

  it('two passes on the first night (no earlier model)', () => {
    expect(nightPasses(undefined, night1.runDate, config)).toEqual({ passes: 2 });
  });

  it("one pass when the earlier night's model is at most fit.scoreWithPreviousModelDays old (default 1), two after a gap", () => {
    expect(config.fit.scoreWithPreviousModelDays).toBe(1);
    expect(nightPasses(model, at(1), config)).toEqual({ passes: 1, scoreWith: model });
    expect(nightPasses(model, at(2), config)).toEqual({ passes: 2 });
    const week = { ...config, fit: { ...config.fit, scoreWithPreviousModelDays: 7 } };
    expect(nightPasses(model, at(7), week)).toMatchObject({ passes: 1 });
    expect(nightPasses(model, at(8), week)).toEqual({ passes: 2 });
  });

  it('always two passes with the setting 0, for a model of the same night, a model that values nobody or other CLV settings', () => {
    expect(nightPasses(model, at(1), { ...config, fit: { ...config.fit, scoreWithPreviousModelDays: 0 } })).toEqual({ passes: 2 });
    expect(nightPasses(model, at(0), config)).toEqual({ passes: 2 });
    const { tierCuts: _cuts, ...noCuts } = model!;
    expect(nightPasses(noCuts, at(1), config)).toEqual({ passes: 2 });
    expect(nightPasses(model, at(1), { ...config, clv: { ...config.clv, months: 24 } })).toEqual({ passes: 2 });
  });

  it('rejects a negative or fractional setting', () => {
    for (const days of [-1, 0.5]) expect(parseScoringConfig({ fit: { scoreWithPreviousModelDays: days } }).ok).toBe(false);
  });
});

describe('a one-pass night (scores with the earlier night’s model while gathering, fits after)', () => {
  /** Counts the customers each night reads from the index. */
  function counting(w: ReturnType<typeof world>) {
    const read = { customers: 0 };
    const readSegment = w.store.readSegment.bind(w.store);
    w.store.readSegment = async (...args) => {
      const page = await readSegment(...args);
      read.customers += page.customers.length;
      return page;
    };
    return read;
  }
  const one = world();
  const two = world();
  const twoPasses: NightlyDeps = { ...two.deps, config: { ...config, fit: { ...config.fit, scoreWithPreviousModelDays: 0 } } };
  const read = { one: counting(one), two: counting(two) };
  let first: Awaited<ReturnType<typeof runNight>>;
  let onePass: Awaited<ReturnType<typeof runNight>>;
  let twoPass: Awaited<ReturnType<typeof runNight>>;
  let rerun: Awaited<ReturnType<typeof runNight>>;
  const before = { written: 0, rescored: 0, planned: 0, read: 0, onePassRead: 0, rerunRead: 0 };
  const afterRerun = { written: 0, rescored: 0, planned: 0 };
  beforeAll(async () => {
    first = await runNight(one.deps, night1);
    await runNight(twoPasses, night1);
    before.read = read.one.customers;
    onePass = await runNight(one.deps, night2, { pageSize: 30, pagesPerInvocation: 2 });
    before.onePassRead = read.one.customers - before.read;
    twoPass = await runNight(twoPasses, night2);
    Object.assign(before, { written: one.store.calls.scoresWritten, rescored: one.publisher.ofType('CustomerRescored').length, planned: one.publisher.ofType('OutreachPlanned').length });
    rerun = await runNight(one.deps, night2, { pageSize: 50, pagesPerInvocation: 1 });
    before.rerunRead = read.one.customers - before.read - before.onePassRead;
    Object.assign(afterRerun, { written: one.store.calls.scoresWritten, rescored: one.publisher.ofType('CustomerRescored').length, planned: one.publisher.ofType('OutreachPlanned').length });
  });

  it('the first night is two passes; the next night one: it reads every customer once, the two-pass night twice', () => {
    expect(first.passes).toBe(2);
    expect(onePass.passes).toBe(1);
    expect(twoPass.passes).toBe(2);
    expect(before.read).toBe(2 * 2357);
    expect(read.two.customers).toBe(4 * 2357);
    expect(before.onePassRead).toBe(2357);
    expect(before.rerunRead).toBe(2357);
    expect(onePass.summary.customersRead).toBe(2357);
  });

  it("scores with the earlier night's model: every score it writes names that model", async () => {
    expect(onePass.modelId).toBe(night1.runId);
    expect(onePass.summary.written).toBeGreaterThan(0);
    const written = [...cdnowProfiles().keys()].map((id) => one.store.storedScore(id)!).filter((s) => s.scoredOn === night2.runDate);
    expect(written).toHaveLength(onePass.summary.written);
    for (const s of written) expect(s.modelId).toBe(night1.runId);
  });

  it("fits tonight's model after scoring, from the sample it gathered: the same model two passes fit", async () => {
    expect(onePass.fittedModelId).toBe(night2.runId);
    expect(onePass.model).toMatchObject({ reused: false, fit: { status: 'fitted', alarm: false } });
    const a = (await one.store.getModel(night2.runId, night2.runDate))!;
    const b = (await two.store.getModel(night2.runId, night2.runDate))!;
    expect(a.sample).toEqual(b.sample);
    expect(a.sample.adHocCustomers).toBe(2357);
    expect({ bgnbd: a.bgnbd, gammaGamma: a.gammaGamma, tierCuts: a.tierCuts }).toEqual({ bgnbd: b.bgnbd, gammaGamma: b.gammaGamma, tierCuts: b.tierCuts });
    expect(a.bgnbd!.fittedInRun).toBe(night2.runId);
  });

  it('says in the run summary event which model scored, which was fitted and the passes', () => {
    const [done1, done2] = one.publisher.ofType('NightlyRunCompleted');
    expect(done1).toMatchObject({ runId: night1.runId, modelId: night1.runId, fittedModelId: night1.runId, passes: 2 });
    expect(done2).toMatchObject({ runId: night2.runId, modelId: night1.runId, fittedModelId: night2.runId, passes: 1, fitStatus: 'fitted', customersRead: 2357 });
    expect(Object.keys(done2!.durations).sort()).toEqual(['finish', 'score']);
  });

  it('writes under 1 % on the quiet night, and plans the month as two passes do', () => {
    expect(onePass.summary.written).toBeLessThan(2357 * 0.01);
    expect(onePass.outreach).toEqual(twoPass.outreach);
  });

  it('a rerun is one pass again, reuses the fitted model, gathers and writes, emits and assigns nothing', () => {
    expect(rerun).toMatchObject({ passes: 1, modelId: night1.runId, fittedModelId: night2.runId, model: { reused: true } });
    expect(rerun.model.fit).toEqual(onePass.model.fit);
    expect(rerun.summary).toMatchObject({ customersRead: 2357, written: 0, emitted: 0 });
    expect(rerun.outreach).toMatchObject({ planned: onePass.outreach.planned, created: 0 });
    expect(afterRerun).toEqual({ written: before.written, rescored: before.rescored, planned: before.planned });
  });

  it("a failed fit keeps the earlier parameters, marks the run and raises the alarm; the night still scores with the earlier model", async () => {
    const w = world();
    await runNight(w.deps, night1);
    const failing: NightlyDeps = { ...w.deps, config: { ...config, fit: { ...config.fit, minAdHocCustomers: 1_000_000 } } };
    const result = await runNight(failing, night2);
    expect(result).toMatchObject({ passes: 1, modelId: night1.runId, fittedModelId: night2.runId });
    expect(result.fit).toMatchObject({ status: 'degraded', alarm: true, components: { bgnbd: { source: 'previous', reason: expect.stringContaining('too few ad-hoc buyers') } } });
    const kept = (await w.store.getModel(night2.runId, night2.runDate))!;
    expect(kept.bgnbd).toEqual((await w.store.getModel(night1.runId, night1.runDate))!.bgnbd);
    expect(w.publisher.ofType('NightlyRunCompleted').at(-1)).toMatchObject({ passes: 1, fitStatus: 'degraded', alarm: true, modelId: night1.runId });
  });
});
