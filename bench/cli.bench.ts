/**
 * Whole-process benchmark of `clm score` as a user runs it:
 *   npm run bench:cli [-- --customers 1000000] [--reps 5] [--continuous] [--compare path/to/bin/clm.js]
 *
 * Writes a seeded simulated summary CSV (bench/make-summary-csv.ts), then runs, alternated,
 * `reps` times each, every command below as a spawned child process and reports the median
 * wall time (measured here around the spawn), CPU time (user + system) and peak RSS (both
 * from /usr/bin/time, the child's own rusage):
 *   - clm score --summary FILE --output OUT (the prebuilt bundle, as after `npm ci`)
 *   - the same through tsx (CLM_NO_BUNDLE=1: no bundle, sources transpiled at start)
 *   - `clm --help` (start-up alone)
 *   - references on the same file: `wc -l`, `cat FILE > /dev/null`, and a minimal Node
 *     process that reads the file and writes an output of the same size as clm's
 *     (bench/io-floor.mjs): the raw I/O cost the whole command cannot go below
 *   - with --compare, another checkout's bin/clm.js (e.g. the version before a change).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshBundle } from '../bin/launch.mjs';
import { buildCli } from '../scripts/build-cli.mjs';
import { writeSummaryCsv } from './make-summary-csv.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
};
const customers = Number(arg('customers', '1000000'));
const reps = Number(arg('reps', '5'));
const compare = arg('compare', '');
const modes: ('day' | 'continuous')[] = process.argv.includes('--continuous') ? ['day', 'continuous'] : ['day'];
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Sample {
  wallMs: number;
  cpuMs: number;
  peakMB: number;
}
interface Command {
  name: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  stdoutTo?: string;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-bench-cli-'));
const timeFile = path.join(dir, 'time.txt');

function runOnce(c: Command): Sample {
  const outFd = openSync(c.stdoutTo ?? '/dev/null', 'w');
  const [cmd, args] = timeBin ? [timeBin, ['-f', '%U %S %M', '-o', timeFile, c.cmd, ...c.args]] : [c.cmd, c.args];
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', outFd, 'pipe'], env: { ...process.env, ...c.env }, maxBuffer: 1 << 24 });
  const wallMs = performance.now() - t0;
  closeSync(outFd);
  if (r.status !== 0) throw new Error(`${c.name} failed (${r.status}): ${r.stderr?.toString()}`);
  if (!timeBin) return { wallMs, cpuMs: NaN, peakMB: NaN };
  const [u, s, kb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  return { wallMs, cpuMs: (u + s) * 1000, peakMB: kb / 1024 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(', ');

process.stderr.write('building dist/clm.mjs…\n');
await buildCli();
// bin/clm.js runs the sources through tsx once any of them is newer than the bundle
const bundleFresh = () => {
  if (!freshBundle()) throw new Error('dist/clm.mjs is older than a source file (edited during the run?): the bundle rows would measure tsx');
};
bundleFresh();

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}\n`);
console.log(`date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}; load average (1, 5, 15 min) at start: ${load()}\n`);

try {
  for (const mode of modes) {
    const file = path.join(dir, `summary-${mode}.csv`);
    process.stderr.write(`writing ${customers.toLocaleString('en-US')} customers (${mode}) to ${file}…\n`);
    writeSummaryCsv(customers, mode, file);
    const out = path.join(dir, 'scores.csv');
    const clm = path.join(root, 'bin/clm.js');
    const score = ['score', '--summary', file, '--output', out, '--quiet'];
    // one untimed run: warms the page cache and gives the output size for the I/O floor
    runOnce({ name: 'warm-up', cmd: process.execPath, args: [clm, ...score] });
    const outBytes = statSync(out).size;
    const commands: Command[] = [
      { name: '`clm score` (prebuilt bundle)', cmd: process.execPath, args: [clm, ...score] },
      { name: '`clm score` through tsx (CLM_NO_BUNDLE=1)', cmd: process.execPath, args: [clm, ...score], env: { CLM_NO_BUNDLE: '1' } },
      ...(compare ? [{ name: `\`clm score\` of ${compare}`, cmd: process.execPath, args: [path.resolve(compare), ...score] }] : []),
      { name: '`clm --help` (start-up only, bundle)', cmd: process.execPath, args: [clm, '--help'] },
      { name: 'reference: `wc -l` of the input', cmd: 'wc', args: ['-l', file] },
      { name: 'reference: `cat input > /dev/null`', cmd: 'cat', args: [file] },
      { name: `reference: Node reads the input, writes ${(outBytes / 2 ** 20).toFixed(0)} MB (bench/io-floor.mjs)`, cmd: process.execPath, args: [path.join(here, 'io-floor.mjs'), file, path.join(dir, 'floor.csv'), String(outBytes)] },
    ];
    const samples = new Map<string, Sample[]>(commands.map((c) => [c.name, []]));
    for (let r = 0; r < reps; r++) {
      bundleFresh();
      for (const c of commands) {
        process.stderr.write(`  rep ${r + 1}/${reps}: ${c.name}\n`);
        samples.get(c.name)!.push(runOnce(c));
      }
    }
    const inMB = statSync(file).size / 2 ** 20;
    console.log(`### ${customers.toLocaleString('en-US')} customers, ${mode === 'day' ? 'day-resolution' : 'continuous'} times: input ${inMB.toFixed(0)} MB, output ${(outBytes / 2 ** 20).toFixed(0)} MB; ${reps} alternated repetitions, medians (min–max wall)\n`);
    console.log('| command | wall time (s) | CPU user+sys (s) | peak RSS (MB) |');
    console.log('|---|---:|---:|---:|');
    for (const c of commands) {
      const s = samples.get(c.name)!;
      const w = s.map((x) => x.wallMs / 1000);
      console.log(`| ${c.name} | **${median(w).toFixed(2)}** (${Math.min(...w).toFixed(2)}–${Math.max(...w).toFixed(2)}) | ${(median(s.map((x) => x.cpuMs)) / 1000).toFixed(2)} | ${median(s.map((x) => x.peakMB)).toFixed(0)} |`);
    }
    console.log('');
  }
  console.log(`load average at end: ${load()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
