/**
 * Reads a directory of your own data for `npm start -- --import DIR`: the CSV files of the
 * format in docs/local.md (customers.csv, orders.csv, …) and JSON Lines of bus events (*.jsonl),
 * as the backfill's Distributed Map item reader reads them in AWS: CSV rows as objects keyed by
 * the header, JSON Lines one value a line. The rows are then backfilled through the synthesized
 * state machine (local/backfill-run.ts), which validates each against the event catalog and
 * reports a bad one with file, line and reason.
 *
 * What the reader itself refuses is reported here, with file and line: a file that is not one
 * of the accepted names, a CSV file without a header or missing a required column (the whole
 * file), a row with another number of fields than the header, a line that is not JSON.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCsv } from '../../shared/csv.ts';
import { CSV_FILES, checkCsvHeader } from '../../shared/backfill/rows.ts';
import type { LocalBackfillFile } from '../backfill-run.ts';

export type ImportError = { file: string; line: number; reason: string };
export type ImportFiles = { files: LocalBackfillFile[]; errors: ImportError[] };

const expected = () => `${Object.keys(CSV_FILES).join(', ')} or *.jsonl`;

function readCsvFile(dir: string, name: string, errors: ImportError[]): LocalBackfillFile | undefined {
  let rows: { line: number; cells: string[] }[];
  try {
    rows = parseCsv(readFileSync(path.join(dir, name)));
  } catch (e) {
    errors.push({ file: name, line: (e as { line?: number }).line ?? 1, reason: (e as Error).message });
    return undefined;
  }
  const header = rows.shift();
  if (!header) {
    errors.push({ file: name, line: 1, reason: 'empty file (a header row is required)' });
    return undefined;
  }
  const check = checkCsvHeader(name, header.cells);
  if ('notAFile' in check) {
    errors.push({ file: name, line: 1, reason: `unknown file; expected one of: ${expected()}` });
    return undefined;
  }
  if (check.missing.length) {
    errors.push({ file: name, line: header.line, reason: `missing column(s): ${check.missing.join(', ')}` });
    return undefined;
  }
  if (check.unknown.length) errors.push({ file: name, line: header.line, reason: `unknown column(s) ignored: ${check.unknown.join(', ')}` });
  const out: unknown[] = [];
  const indexes: number[] = [];
  rows.forEach(({ line, cells }, index) => {
    if (cells.length !== header.cells.length) return void errors.push({ file: name, line, reason: `expected ${header.cells.length} fields, found ${cells.length}` });
    out.push(Object.fromEntries(header.cells.map((c, i) => [c, cells[i]!])));
    indexes.push(index);
  });
  return { key: name, format: 'csv', rows: out, indexes };
}

function readJsonLinesFile(dir: string, name: string, errors: ImportError[]): LocalBackfillFile {
  const rows: unknown[] = [];
  const indexes: number[] = [];
  readFileSync(path.join(dir, name), 'utf8')
    .replace(/^\uFEFF/, '') // a byte-order mark, as some editors and exports on Windows write it
    .split(/\r?\n/)
    .forEach((text, i) => {
      if (text.trim() === '') return;
      try {
        rows.push(JSON.parse(text));
        indexes.push(i);
      } catch {
        errors.push({ file: name, line: i + 1, reason: 'not JSON' });
      }
    });
  return { key: name, format: 'jsonl', rows, indexes };
}

/** Reads every accepted file in `dir` (in name order); other .csv and .jsonl files are reported, not ignored. */
export function readImportDirectory(dir: string): ImportFiles {
  if (!existsSync(dir)) throw new Error(`import directory ${dir} does not exist`);
  const names = readdirSync(dir)
    .filter((f) => /\.(csv|jsonl)$/i.test(f))
    .sort();
  if (names.length === 0) throw new Error(`no .csv or .jsonl files in ${dir}; expected some of: ${expected()}`);
  const errors: ImportError[] = [];
  const files: LocalBackfillFile[] = [];
  for (const name of names) {
    const file = name.toLowerCase().endsWith('.jsonl') ? readJsonLinesFile(dir, name, errors) : readCsvFile(dir, name, errors);
    if (file) files.push(file);
  }
  return { files, errors };
}
