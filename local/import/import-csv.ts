/**
 * Loads a user's own data from a directory of CSV files into the same
 * business events the synthetic generator produces (see docs/local.md for the
 * format). Every row is validated against the event catalog; bad rows are
 * reported with file:line and the reason, never dropped silently.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCsv } from '../../shared/csv.ts';
import { CSV_FILES, checkCsvHeader, csvRowEvents } from '../../shared/backfill/rows.ts';
import type { GeneratedEntry } from '../synthetic/generate.ts';

export type ImportError = { file: string; line: number; reason: string };
export type ImportResult = { entries: GeneratedEntry[]; errors: ImportError[]; files: { file: string; rows: number; events: number }[] };

/** Reads every known CSV file in `dir`; unknown .csv files are reported, not ignored. */
export function importCsvDirectory(dir: string): ImportResult {
  if (!existsSync(dir)) throw new Error(`import directory ${dir} does not exist`);
  const entries: (GeneratedEntry & { at: number })[] = [];
  const errors: ImportError[] = [];
  const files: ImportResult['files'] = [];
  const names = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.csv')).sort();
  if (names.length === 0) throw new Error(`no .csv files in ${dir}; expected some of: ${Object.keys(CSV_FILES).join(', ')}`);
  for (const name of names) {
    if (!Object.hasOwn(CSV_FILES, name.toLowerCase())) {
      errors.push({ file: name, line: 1, reason: `unknown file; expected one of: ${Object.keys(CSV_FILES).join(', ')}` });
      continue;
    }
    let rows: { line: number; cells: string[] }[];
    try {
      rows = parseCsv(readFileSync(path.join(dir, name)));
    } catch (e) {
      errors.push({ file: name, line: 1, reason: (e as Error).message });
      continue;
    }
    const header = rows.shift();
    if (!header) {
      errors.push({ file: name, line: 1, reason: 'empty file (a header row is required)' });
      continue;
    }
    const columns = header.cells.map((c) => c.trim().toLowerCase());
    const check = checkCsvHeader(name, columns);
    if ('notAFile' in check) continue;
    if (check.missing.length) {
      errors.push({ file: name, line: header.line, reason: `missing column(s): ${check.missing.join(', ')}` });
      continue;
    }
    if (check.unknown.length) errors.push({ file: name, line: header.line, reason: `unknown column(s) ignored: ${check.unknown.join(', ')}` });
    let events = 0;
    for (const { line, cells } of rows) {
      if (cells.length !== columns.length) {
        errors.push({ file: name, line, reason: `expected ${columns.length} fields, found ${cells.length}` });
        continue;
      }
      const mapped = csvRowEvents(name, Object.fromEntries(columns.map((c, i) => [c, cells[i]!])));
      if (!mapped.ok) {
        errors.push({ file: name, line, reason: mapped.reason });
        continue;
      }
      for (const e of mapped.events) {
        const at = String(e.detail.occurredAt);
        entries.push({ Source: e.source, DetailType: e['detail-type'], Detail: JSON.stringify(e.detail), Time: new Date(at), at: Date.parse(at) });
      }
      events += mapped.events.length;
    }
    files.push({ file: name, rows: rows.length, events });
  }
  // Replay in time order, as the history happened.
  entries.sort((a, b) => a.at - b.at);
  return { entries: entries.map(({ at: _at, ...e }) => e), errors, files };
}
