/** The clm command line (in-process, plus one real process through bin/clm.js). */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { agreesToSigFigs, cdnowDir, cdnowSampleAsCsv, repoRoot, tempFile } from './helpers.ts';

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
  it('runs as a real process (tsx registered by the bin script)', () => {
    const out = execFileSync(process.execPath, [path.join(repoRoot, 'bin/clm.js'), 'fit-sbg', '--survivors', '1000,869,743,653,593,551,517,491'], { encoding: 'utf8' });
    const j = JSON.parse(out);
    expect(agreesToSigFigs(j.alpha, 0.668)).toBe(true);
    expect(agreesToSigFigs(j.beta, 3.806)).toBe(true);
    const help = spawnSync(process.execPath, [path.join(repoRoot, 'bin/clm.js'), '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/clm fit/);
  });
});
