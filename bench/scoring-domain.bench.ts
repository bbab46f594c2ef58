/**
 * Benchmark of the nightly scoring's domain layer alone (no DynamoDB, no AWS): the CPU cost
 * per customer of each step a scoring worker will run, so the nightly run's own benchmark
 * (against DynamoDB Local, not built yet) can tell computation from I/O.
 *   npx tsx bench/scoring-domain.bench.ts [customers]   (default 23,570: the CDNOW sample ×10)
 *
 * Customers: the CDNOW sample's 2,357 purchase histories as stored profiles, repeated with
 * new ids. Each step runs over all customers after one warm-up pass; the table prints wall
 * time and the process's CPU time (user + system; the cost that matters on a shared machine,
 * though it includes the garbage collector's threads), per customer and per CPU-second.
 */
import os from 'node:os';
import { type CustomerProfile, emptyProfile } from '../shared/customers/profile.ts';
import {
  TopN,
  defaultScoringConfig as config,
  diffScore,
  fitNightlyModels,
  gatherSummaries,
  outreachCandidate,
  scoreCustomerBatch,
  summarizeProfile,
  type CustomerScore,
} from '../shared/scoring/index.ts';
import { addCustomer, emptyReportPart, finishPart } from '../shared/report/aggregate.ts';
import { cdnowProfiles } from '../test/unit/scoring/helpers.ts';

const customers = Number(process.argv[2] ?? 23_570);
const runDate = '1997-09-30';

const base = [...cdnowProfiles(runDate).values()].map((p) => p.purchaseDays);
const profiles: CustomerProfile[] = Array.from({ length: customers }, (_, i) => {
  const p = emptyProfile(`C-${i}`);
  p.purchaseDays = { ...base[i % base.length]! };
  return p;
});

/** Wall time and this process's CPU time (user + system): on a busy machine the CPU time is the cost. */
function time(step: string, run: () => void): { step: string; ms: number; cpuMs: number } {
  run(); // warm-up
  const t = performance.now();
  const c = process.cpuUsage();
  run();
  const used = process.cpuUsage(c);
  return { step, ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
}

const rows: { step: string; ms: number; cpuMs: number }[] = [];
rows.push(time('summary from profile', () => profiles.forEach((p) => summarizeProfile(p, runDate))));
const summaries = profiles.map((p) => summarizeProfile(p, runDate));
rows.push(time('gather (compress to unique rows)', () => gatherSummaries(summaries)));
const gathered = gatherSummaries(summaries);
let fit = fitNightlyModels({ runId: 'bench', runDate, gathered, sampleShare: 1, config });
rows.push(time('fit BG/NBD + Gamma-Gamma + tier cuts (whole base)', () => {
  fit = fitNightlyModels({ runId: 'bench', runDate, gathered, sampleShare: 1, config });
}));
const context = { model: fit.model, runDate, config };
let scores: CustomerScore[] = [];
for (const batch of [1, 100, 1000]) {
  rows.push(time(`score, batches of ${batch}`, () => {
    const out: CustomerScore[] = [];
    for (let s = 0; s < profiles.length; s += batch) {
      for (const o of scoreCustomerBatch(profiles.slice(s, s + batch).map((profile) => ({ profile, triggers: [] })), context)) if (o.status === 'scored') out.push(o.score);
    }
    scores = out;
  }));
}
rows.push(time('diff against the stored score', () => scores.forEach((s) => diffScore(s, { ...s, clv: s.clv * 1.01 }, config.writeThresholds))));
rows.push(time('outreach candidate + top-200 keeper', () => {
  const top = new TopN(200);
  for (const s of scores) {
    const c = outreachCandidate(s, config.outreach);
    if (c) top.offer(c);
  }
}));

rows.push(time('report aggregate (addCustomer, then the part merged)', () => {
  const part = emptyReportPart();
  scores.forEach((s, i) => addCustomer(part, { profile: profiles[i]!, score: s }, { runDate, horizonMonths: config.churn.horizonMonths }));
  finishPart(part);
}));

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}`);
console.log(`date: ${new Date().toISOString().slice(0, 10)}; customers: ${customers.toLocaleString('en')} (fit status: ${fit.status})\n`);
console.log('| step | wall ms | CPU ms | CPU µs per customer | customers / CPU-second |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  const us = (r.cpuMs * 1000) / customers;
  console.log(`| ${r.step} | ${r.ms.toFixed(0)} | ${r.cpuMs.toFixed(0)} | ${us.toFixed(1)} | ${Math.round(1e6 / us).toLocaleString('en')} |`);
}
