/**
 * Benchmark: fit and score 100,000 and 1,000,000 simulated customers.
 *   npm run bench            (day-resolution data, like a real transaction log)
 *   npm run bench -- --continuous   also run the continuous-time worst case (no compression)
 *
 * Each size runs in a fresh child process (bench/clv-worker.ts) so that the peak RSS
 * (process.resourceUsage().maxRSS) is the peak of that run alone. Workload per size, as for
 * the Python reference (lifetimes 0.11.3): BG/NBD fit with standard errors, P(alive),
 * expected purchases over 52 weeks, Gamma-Gamma fit, 12-month CLV.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface WorkerResult {
  customers: number;
  mode: string;
  distinctRows: number;
  distinctPairs: number;
  simulateMs: number;
  startRssMB: number;
  afterSimulation: { peakMB: number; rssMB: number };
  steps: { step: string; ms: number; peakMB: number; rssMB: number }[];
  totalMs: number;
  peakMB: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const worker = path.join(here, 'clv-worker.ts');
const tsxCli = path.resolve(here, '../node_modules/tsx/dist/cli.mjs');

const runs: [number, string][] = [
  [100_000, 'day'],
  [1_000_000, 'day'],
];
if (process.argv.includes('--continuous')) runs.push([100_000, 'continuous'], [1_000_000, 'continuous']);

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`);
console.log(`\ndate: ${new Date().toISOString().slice(0, 10)}\n`);

const results: WorkerResult[] = [];
for (const [n, mode] of runs) {
  process.stderr.write(`running ${n.toLocaleString('en-US')} customers (${mode}) in a fresh process…\n`);
  const out = execFileSync(process.execPath, [tsxCli, worker, String(n), mode], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const res = JSON.parse(out.trim().split('\n').pop()!) as WorkerResult;
  results.push(res);
  console.log(`### ${n.toLocaleString('en-US')} customers, ${mode === 'day' ? 'day-resolution times' : 'continuous times'} (${res.distinctRows.toLocaleString('en-US')} distinct (x, t_x, T) rows, ${res.distinctPairs.toLocaleString('en-US')} distinct (x, T) pairs)`);
  console.log(`simulation (not timed below): ${res.simulateMs.toFixed(0)} ms; RSS at start ${res.startRssMB.toFixed(0)} MB, after simulation ${res.afterSimulation.rssMB.toFixed(0)} MB\n`);
  console.log('| step | time (ms) | peak RSS so far (MB) |');
  console.log('|---|---:|---:|');
  for (const s of res.steps) console.log(`| ${s.step} | ${s.ms.toFixed(0)} | ${s.peakMB.toFixed(0)} |`);
  console.log(`| **total** | **${res.totalMs.toFixed(0)}** | **${res.peakMB.toFixed(0)}** |\n`);
}

console.log('| customers | data | total time (s) | peak RSS (MB) | target |');
console.log('|---:|---|---:|---:|---|');
for (const r of results) {
  const target = r.customers === 1_000_000 ? (r.totalMs < 2000 && r.peakMB < 300 ? 'met (< 2 s, < 300 MB)' : 'missed (< 2 s, < 300 MB)') : '';
  console.log(`| ${r.customers.toLocaleString('en-US')} | ${r.mode} | ${(r.totalMs / 1000).toFixed(2)} | ${r.peakMB.toFixed(0)} | ${target} |`);
}
