/** The clm command line (in-process, plus one real process through bin/clm.js). */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshBundle } from '../../bin/launch.mjs';
import { main } from '../../cli/main.ts';
import { buildCli } from '../../scripts/build-cli.mjs';
import { PERIODS_PER_MONTH, fitBgNbd, fitGammaGamma, prepareRfm, scoreCustomers } from '../../shared/clv/index.ts';
import { agreesToSigFigs, cdnowDir, cdnowSampleAsCsv, repoRoot, simulate, tempFile } from './helpers.ts';

function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

const txFile = cdnowSampleAsCsv();

describe('clm fit', () => {
  it('prints BG/NBD and Gamma-Gamma parameters from transactions', () => {
    const r = run(['fit', '--input', txFile, '--calibration-end', '1997-09-30', '--period', 'week', '--quiet']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(agreesToSigFigs(j.bgnbd.r, 0.243)).toBe(true);
    expect(agreesToSigFigs(j.bgnbd.alpha, 4.414)).toBe(true);
    expect(agreesToSigFigs(j.bgnbd.a, 0.793)).toBe(true);
    expect(agreesToSigFigs(j.bgnbd.b, 2.426)).toBe(true);
    expect(j.bgnbd.logLikelihood).toBeCloseTo(-9582.4, 0);
    expect(agreesToSigFigs(j.gammaGamma.p, 6.25)).toBe(true);
    expect(agreesToSigFigs(j.gammaGamma.q, 3.74)).toBe(true);
    expect(agreesToSigFigs(j.gammaGamma.gamma, 15.44)).toBe(true);
    expect(j.data.customers).toBe(2357);
  });

  it('accepts a summary CSV', () => {
    const src = readFileSync(path.join(cdnowDir, 'cdnow_customers_summary_with_transactions.csv'), 'utf8').split(/\r?\n/).filter(Boolean);
    const csv = ['customer_id,frequency,recency,T,monetary_value', ...src.slice(1)].join('\n');
    const r = run(['fit', '--summary', tempFile('summary.csv', csv)]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(agreesToSigFigs(j.bgnbd.r, 0.243)).toBe(true);
    expect(agreesToSigFigs(j.gammaGamma.gamma, 15.44)).toBe(true);
  });

  it('fails on a bad row with its line number, or skips and counts it', () => {
    const csv = 'customer_id,date,amount\nA,2020-01-01,10\nB,2020-13-01,5\nC,2020-01-02,-3\nA,20200110,4\n';
    const f = tempFile('bad.csv', csv);
    const r = run(['fit', '--input', f, '--calibration-end', '2020-02-01']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.csv:3: invalid calendar date "2020-13-01"/);
    const s = run(['score', '--input', f, '--calibration-end', '2020-02-01', '--skip-bad-rows']);
    expect(s.stderr).toMatch(/skipped 2 bad rows/);
    expect(s.stderr).toMatch(/:4: amount -3 is negative/);
  });

  it('rejects bad options', () => {
    expect(run(['fit']).code).toBe(1);
    expect(run(['fit', '--input', txFile]).stderr).toMatch(/--calibration-end is required/);
    expect(run(['fit', '--input', txFile, '--calibration-end', '1997-09-30', '--period', 'month']).stderr).toMatch(/--period must be week or day/);
    expect(run(['fit', '--bogus']).code).toBe(2);
    expect(run(['nope']).code).toBe(2);
    expect(run(['score', '--input', txFile, '--calibration-end', '1997-09-30', '--horizon', 'x']).stderr).toMatch(/--horizon must be/);
  });
});

describe('clm score', () => {
  it('writes one row per customer with the documented columns', () => {
    const out = path.join(path.dirname(txFile), 'scores.csv');
    const r = run(['score', '--input', txFile, '--calibration-end', '1997-09-30', '--horizon', '12', '--discount-rate', '0.01', '--margin', '0.3', '--output', out]);
    expect(r.code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('customer_id,frequency,recency,T,p_alive,expected_purchases,expected_spend,clv,churn_risk,value_tier');
    expect(lines.length).toBe(2358);
    const first = lines[1].split(',');
    expect(first[0]).toBe('0001');
    expect(Number(first[1])).toBe(2);
    for (const l of lines.slice(1)) {
      const f = l.split(',');
      const pa = Number(f[4]);
      const clv = Number(f[7]);
      const churn = Number(f[8]);
      expect(pa >= 0 && pa <= 1).toBe(true);
      expect(clv >= 0).toBe(true);
      expect(churn >= 0 && churn <= 1).toBe(true);
      expect(['top', 'high', 'medium', 'low', 'lapsed']).toContain(f[9]);
    }
  });
});

/**
 * A summary of 3,000 simulated customers written the awkward ways real files are: CRLF,
 * quoted header fields, quoted ids with commas, quotes, line breaks and non-ASCII letters,
 * white space around numbers, exponents and 17-digit decimals, a blank line, and no line
 * break at the end. Returns the file and the values it holds.
 */
function awkwardSummary() {
  const n = 3000;
  const d = simulate({ customers: n, bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 }, seed: 7, calibrationPeriods: 39, cohortPeriods: 12, daysPerPeriod: 7 });
  const ids: string[] = [];
  const lines = ['"customer_id", "Frequency" ,recency,"T","monetary_value"'];
  const fmt = (x: number, i: number) => [String(x), ` ${x} `, x.toExponential(), `\t${x}`][i % 4];
  for (let i = 0; i < n; i++) {
    const id = [`C${i}`, `Zoë-${i}`, `"q, ${i}"`, `multi\nline ${i}`][i % 4];
    ids.push(id);
    const quoted = /[",\n]/.test(id) ? `"${id.replace(/"/g, '""')}"` : id;
    lines.push(`${quoted},${d.frequency[i]},${fmt(d.recency[i], i)},${fmt(d.T[i], i + 1)},${fmt(d.monetary[i], i + 2)}`);
    if (i === 10) lines.push('');
  }
  const file = tempFile('awkward.csv', lines.join('\r\n'));
  return { file, ids, frequency: d.frequency, recency: d.recency, T: d.T, monetary: d.monetary };
}

/** The scores CSV as the row-by-row string code wrote it before the streamed writer (the reference). */
function referenceScores(x: ReturnType<typeof awkwardSummary>, purchaseHorizon?: number): string {
  const data = { frequency: x.frequency, recency: x.recency, T: x.T, monetary: x.monetary };
  const bg = fitBgNbd(prepareRfm(x.frequency, x.recency, x.T));
  const gg = fitGammaGamma(x.frequency, x.monetary);
  const s = scoreCustomers(bg, gg, data, { months: 12, discountRate: 0.01, margin: 1, periodsPerMonth: PERIODS_PER_MONTH.week, purchaseHorizon, churnHorizon: 3 * PERIODS_PER_MONTH.week });
  const f6 = (v: number) => (Number.isFinite(v) ? String(Math.round(v * 1e6) / 1e6) : '');
  const field = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  let out = 'customer_id,frequency,recency,T,p_alive,expected_purchases,expected_spend,clv,churn_risk,value_tier\n';
  for (let i = 0; i < x.ids.length; i++) {
    out += `${field(x.ids[i])},${x.frequency[i]},${f6(x.recency[i])},${f6(x.T[i])},${f6(s.pAlive[i])},${f6(s.expectedPurchases[i])},${f6(s.expectedSpend[i])},${f6(s.clv[i])},${f6(s.churnRisk[i])},${s.valueTier[i]}\n`;
  }
  return out;
}

describe('clm score on an awkward summary file (streamed reader and writer)', () => {
  const x = awkwardSummary();

  it('writes exactly what the row-by-row reference writes, to stdout and to a file', () => {
    const expected = referenceScores(x);
    const r = run(['score', '--summary', x.file, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected);
    const out = path.join(path.dirname(x.file), 'scores.csv');
    expect(run(['score', '--summary', x.file, '--output', out]).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(expected);
  });

  it('--purchase-horizon sets the horizon of expected_purchases in periods', () => {
    const r = run(['score', '--summary', x.file, '--purchase-horizon', '52', '--quiet']);
    expect(r.stdout).toBe(referenceScores(x, 52));
    expect(r.stdout).not.toBe(referenceScores(x));
    expect(run(['score', '--summary', x.file, '--purchase-horizon', '0']).stderr).toMatch(/--purchase-horizon must be a number of periods > 0/);
  });

  it('reports bad rows with their line numbers, counting line breaks inside quoted fields', () => {
    const csv = 'customer_id,frequency,recency,T,monetary_value\r\n"A\r\nB",1,2,10,5\r\nC,x,2,10,5\r\n"D",1,20,10,5\r\n\r\nE,0,0,10,0';
    const f = tempFile('bad-summary.csv', csv);
    const r = run(['fit', '--summary', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad-summary\.csv:4: frequency "x" is not a number/);
    const s = run(['fit', '--summary', f, '--skip-bad-rows', '--quiet']);
    expect(s.stderr).toMatch(/skipped 2 bad rows:\n.*:4: frequency "x" is not a number\n.*:5: recency 20 is greater than T 10\n/);
    expect(run(['fit', '--summary', tempFile('open.csv', 'customer_id,frequency,recency,T\n"A,1,2,3\n')]).stderr).toMatch(/open\.csv: unterminated quoted field starting on line 2/);
    expect(run(['fit', '--summary', tempFile('empty.csv', '\n \n')]).stderr).toMatch(/empty\.csv: empty file/);
  });
});

describe('clm fit-sbg and validate', () => {
  it('fit-sbg prints alpha, beta and the projected retention', () => {
    const r = run(['fit-sbg', '--survivors', '1000,631,468,382,326,289,262,241']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(agreesToSigFigs(j.alpha, 0.704)).toBe(true);
    expect(agreesToSigFigs(j.beta, 1.182)).toBe(true);
    expect(j.retention.length).toBe(13);
    expect(j.retention[0]).toBe(1);
    expect(run(['fit-sbg', '--survivors', '1000,x']).stderr).toMatch(/not a number/);
  });
  it('fit-sbg from individual tenures', () => {
    const rows = ['customer_id,periods,churned'];
    const s = [1000, 631, 468, 382, 326, 289, 262, 241];
    let id = 0;
    for (let t = 1; t < s.length; t++) for (let i = 0; i < s[t - 1] - s[t]; i++) rows.push(`${id++},${t},1`);
    for (let i = 0; i < 241; i++) rows.push(`${id++},7,0`);
    const r = run(['fit-sbg', '--tenures', tempFile('tenures.csv', rows.join('\n'))]);
    expect(r.code).toBe(0);
    expect(agreesToSigFigs(JSON.parse(r.stdout).alpha, 0.704)).toBe(true);
    const bad = tempFile('tenures-bad.csv', `${rows.join('\r\n')}\r\nx,2.5,1\r\ny,3,maybe`);
    expect(run(['fit-sbg', '--tenures', bad]).stderr).toMatch(/tenures-bad\.csv:1002: periods "2\.5" must be a whole number ≥ 0/);
    const skipped = run(['fit-sbg', '--tenures', bad, '--skip-bad-rows']);
    expect(skipped.stderr).toMatch(/skipped 2 bad rows:\n.*:1002: .*\n.*:1003: churned "maybe" must be 1\/0 or true\/false/);
    expect(agreesToSigFigs(JSON.parse(skipped.stdout).alpha, 0.704)).toBe(true);
  });
  it('validate prints the holdout comparison table', () => {
    const r = run(['validate', '--input', txFile, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/calib\. freq \| customers \| actual mean \| predicted mean/);
    expect(r.stdout).toMatch(/total \|\s+2357 \|/);
    expect(r.stdout).toMatch(/\|\s+1882 \|/);
    const j = JSON.parse(run(['validate', '--input', txFile, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--json']).stdout);
    expect(j.actualTotal).toBe(1882);
    expect(j.buckets).toHaveLength(8);
  });
});

describe('bin/clm.js', () => {
  it('runs the prebuilt bundle, which writes the same scores as the sources', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clm-bundle-'));
    const bundle = await buildCli(dir);
    const x = awkwardSummary();
    const out = execFileSync(process.execPath, [bundle, 'score', '--summary', x.file, '--quiet'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(out).toBe(run(['score', '--summary', x.file, '--quiet']).stdout);
    // fresh while no input is newer than the bundle; stale (sources run instead) once one is
    expect(freshBundle(dir, repoRoot)).toMatch(/clm\.mjs$/);
    const input = path.join(dir, 'input.ts');
    writeFileSync(input, '');
    writeFileSync(path.join(dir, 'clm.inputs.json'), JSON.stringify([input]));
    utimesSync(input, new Date(), new Date(Date.now() + 60_000));
    expect(freshBundle(dir, repoRoot)).toBeNull();
    expect(freshBundle(path.join(dir, 'missing'), repoRoot)).toBeNull();
  });


  it('runs as a real process from the sources (tsx registered by the bin script when there is no current bundle)', () => {
    const env = { ...process.env, CLM_NO_BUNDLE: '1' };
    const out = execFileSync(process.execPath, [path.join(repoRoot, 'bin/clm.js'), 'fit-sbg', '--survivors', '1000,869,743,653,593,551,517,491'], { encoding: 'utf8', env });
    const j = JSON.parse(out);
    expect(agreesToSigFigs(j.alpha, 0.668)).toBe(true);
    expect(agreesToSigFigs(j.beta, 3.806)).toBe(true);
    const help = spawnSync(process.execPath, [path.join(repoRoot, 'bin/clm.js'), '--help'], { encoding: 'utf8', env });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/clm fit/);
  });
});
