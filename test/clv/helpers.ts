/** Test helpers: CDNOW reference data and the seeded simulator. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SimulateOptions, simulateCustomers } from '../../shared/clv/simulate.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cdnowDir = path.resolve(repoRoot, '../shared/datasets/cdnow');

export function readLines(file: string): string[] {
  return readFileSync(path.join(cdnowDir, file), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
}

/** cdnow_customers_summary_with_transactions.csv: ID,x,t_x,T,zbar (weeks). */
export function loadCdnowSummary() {
  const rows = readLines('cdnow_customers_summary_with_transactions.csv').slice(1).map((l) => l.split(',').map(Number));
  return {
    id: rows.map((r) => r[0]),
    frequency: rows.map((r) => r[1]),
    recency: rows.map((r) => r[2]),
    T: rows.map((r) => r[3]),
    monetary: rows.map((r) => r[4]),
  };
}

/**
 * Convert CDNOW_sample.txt (whitespace separated, CRLF, no header: master id, sample id,
 * YYYYMMDD, cds, dollars) to the CLI's CSV (customer_id,date,amount) in a temp dir.
 */
export function cdnowSampleAsCsv(): string {
  const out = ['customer_id,date,amount,cds'];
  for (const l of readLines('CDNOW_sample.txt')) {
    const f = l.trim().split(/\s+/);
    out.push(`${f[1]},${f[2]},${f[4]},${f[3]}`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'clv-cdnow-'));
  const file = path.join(dir, 'transactions.csv');
  writeFileSync(file, `${out.join('\n')}\n`);
  return file;
}

export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'clv-test-'));
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** Seeded simulator (BG/NBD + Gamma-Gamma). */
export function simulate(options: SimulateOptions) {
  return simulateCustomers(options);
}

/** Relative difference. */
export const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

/** Round to n significant figures. */
export const sig = (x: number, n = 3) => Number(x.toPrecision(n));

/**
 * "Agrees to n significant figures": |value − reference| is at most half a unit in the
 * n-th significant figure of the reference (robust to rounding at a digit boundary,
 * e.g. 24.6596 vs the published 24.65).
 */
export function agreesToSigFigs(value: number, reference: number, n = 3): boolean {
  const unit = Math.pow(10, Math.floor(Math.log10(Math.abs(reference))) - (n - 1));
  return Math.abs(value - reference) <= unit / 2;
}
