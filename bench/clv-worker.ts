/**
 * One benchmark run in a fresh process (so the peak RSS is honest):
 *   npx tsx bench/clv-worker.ts <customers> [day|continuous]
 * Simulates customers, then times each step of the reference workload and prints one JSON
 * line with per-step wall time and the process's peak RSS after the step.
 */
import {
  conditionalAliveExpectationPairs,
  customerLifetimeValue,
  fitBgNbd,
  fitGammaGamma,
  prepareRfm,
  probabilityAliveRows,
  type RfmTable,
} from '../shared/clv/index.ts';
import { simulateBenchCustomers } from './simulation.ts';

const n = Number(process.argv[2] ?? 100_000);
const mode = (process.argv[3] ?? 'day') as 'day' | 'continuous';

const peakMB = () => process.resourceUsage().maxRSS / 1024; // maxRSS is in kB
const rssMB = () => process.memoryUsage().rss / 2 ** 20;

const steps: { step: string; ms: number; peakMB: number; rssMB: number }[] = [];
function step<T>(name: string, fn: () => T): T {
  const t0 = performance.now();
  const v = fn();
  steps.push({ step: name, ms: performance.now() - t0, peakMB: peakMB(), rssMB: rssMB() });
  return v;
}

const startRss = rssMB();
const t0 = performance.now();
const data = simulateBenchCustomers(n, mode);
const simMs = performance.now() - t0;
const afterSim = { peakMB: peakMB(), rssMB: rssMB() };

const workStart = performance.now();
let table!: RfmTable;
const bg = step('fit BG/NBD (with standard errors)', () => {
  table = prepareRfm(data.frequency, data.recency, data.T);
  return fitBgNbd(table);
});
step('P(alive) per customer', () => {
  const rows = probabilityAliveRows(bg, table);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rows[table.index[i]];
  return out;
});
step('E[X(52 weeks)] per customer', () => {
  const pa = probabilityAliveRows(bg, table);
  const g = conditionalAliveExpectationPairs(bg, table, [52]);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = table.index[i];
    out[i] = pa[r] * g[table.pairIndex[r]];
  }
  return out;
});
const gg = step('fit Gamma-Gamma (with standard errors)', () => fitGammaGamma(data.frequency, data.monetary));
const clv = step('12-month CLV per customer', () =>
  customerLifetimeValue(bg, gg, { ...data, table }, { months: 12, discountRate: 0.01, margin: 1 }),
);
const totalMs = performance.now() - workStart;
let sum = 0;
for (const v of clv.clv) sum += v;

process.stdout.write(
  `${JSON.stringify({
    customers: n,
    mode,
    distinctRows: table.rows,
    distinctPairs: table.pairX.length,
    simulateMs: simMs,
    startRssMB: startRss,
    afterSimulation: afterSim,
    steps,
    totalMs,
    peakMB: peakMB(),
    fit: { r: bg.r, alpha: bg.alpha, a: bg.a, b: bg.b, p: gg.p, q: gg.q, gamma: gg.gamma },
    totalClv: sum,
  })}\n`,
);
