import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImportDirectory, type ImportError } from '../../local/import/import-csv.ts';
import { csvRowEvents } from '../../shared/backfill/rows.ts';
import { validateInbound } from '../../shared/events/validate.ts';
import type { GeneratedEntry } from '../../local/synthetic/generate.ts';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/import');

/**
 * What --import makes of a directory: the reader's rows (local/import/import-csv.ts) mapped as
 * the backfill maps a CSV row (shared/backfill/rows.ts), in time order, with every problem by file
 * and line (the reader's and the mapping's).
 */
function importCsvDirectory(dir: string): { entries: GeneratedEntry[]; errors: ImportError[]; files: { file: string; rows: number; events: number }[] } {
  const read = readImportDirectory(dir);
  const errors = [...read.errors];
  const entries: (GeneratedEntry & { at: number })[] = [];
  const files = read.files.map((f) => {
    let events = 0;
    (f.rows as Record<string, string>[]).forEach((row, k) => {
      const mapped = csvRowEvents(f.key, row);
      if (!mapped.ok) return void errors.push({ file: f.key, line: f.indexes![k]! + 2, reason: mapped.reason });
      for (const e of mapped.events) entries.push({ Source: e.source, DetailType: e['detail-type'], Detail: JSON.stringify(e.detail), Time: new Date(String(e.detail.occurredAt)), at: Date.parse(String(e.detail.occurredAt)) });
      events += mapped.events.length;
    });
    return { file: f.key, rows: f.rows.length, events };
  });
  errors.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  entries.sort((a, b) => a.at - b.at);
  return { entries: entries.map(({ at: _, ...e }) => e), errors, files };
}

describe('CSV import', () => {
  const result = importCsvDirectory(fixtures);

  it('maps good rows to catalog events that pass the ingest validation', () => {
    const types = result.entries.map((e) => e.DetailType);
    expect(types.filter((t) => t === 'CustomerProfileUpdated')).toHaveLength(2);
    expect(types.filter((t) => t === 'ConsentChanged')).toHaveLength(2);
    expect(types.filter((t) => t === 'SubscriptionStarted')).toHaveLength(1);
    expect(types.filter((t) => t === 'SubscriptionChanged')).toHaveLength(1);
    expect(types.filter((t) => t === 'OrderPlaced')).toHaveLength(1);
    expect(types.filter((t) => t === 'OrderStatusChanged')).toHaveLength(1);
    expect(types.filter((t) => t === 'SupportCallLogged')).toHaveLength(2);
    expect(types.filter((t) => t === 'SupportCallResolved')).toHaveLength(1);
    expect(types.filter((t) => t === 'UsageRecorded')).toHaveLength(2);
    expect(result.entries).toHaveLength(13);
    for (const e of result.entries) {
      const v = validateInbound({ source: e.Source, 'detail-type': e.DetailType, detail: JSON.parse(e.Detail) });
      expect(v.ok, e.Detail).toBe(true);
    }
    const bob = result.entries.find((e) => e.Detail.includes('bob.jones'))!;
    expect(JSON.parse(bob.Detail)).toMatchObject({ customerId: 'K002', firstName: 'Bob "Bobby"', occurredAt: '2025-07-15T00:00:00Z', preferredHour: 18 });
    const resolved = JSON.parse(result.entries.find((e) => e.DetailType === 'SupportCallResolved')!.Detail);
    expect(resolved).toMatchObject({ callId: 'CALL-1', resolutionMinutes: 45, resolved: true });
    // In time order, with stable, unique event ids.
    const times = result.entries.map((e) => e.Time!.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const ids = result.entries.map((e) => JSON.parse(e.Detail).eventId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(importCsvDirectory(fixtures).entries.map((e) => JSON.parse(e.Detail).eventId)).toEqual(ids);
  });

  it('reports every bad row with file:line and a reason', () => {
    const errs = result.errors.map((e) => `${e.file}:${e.line}`);
    expect(errs).toEqual([
      'consents.csv:4',
      'customers.csv:4',
      'customers.csv:5',
      'orders.csv:3',
      'orders.csv:4',
      'subscriptions.csv:4',
      'support_calls.csv:4',
      'usage.csv:4',
    ]);
    const reason = (loc: string) => result.errors.find((e) => `${e.file}:${e.line}` === loc)!.reason;
    expect(reason('consents.csv:4')).toMatch(/granted "maybe" is not true\/false/);
    expect(reason('customers.csv:4')).toMatch(/^email:/);
    expect(reason('customers.csv:5')).toMatch(/^preferredHour:/);
    expect(reason('orders.csv:3')).toMatch(/amount "twelve" is not a number/);
    expect(reason('orders.csv:4')).toMatch(/expected 7 fields, found 5/);
    expect(reason('subscriptions.csv:4')).toMatch(/event "paused"/);
    expect(reason('support_calls.csv:4')).toMatch(/^reason:/);
    expect(reason('usage.csv:4')).toMatch(/^quantity:/);
    expect(result.files.find((f) => f.file === 'support_calls.csv')).toEqual({ file: 'support_calls.csv', rows: 3, events: 3 });
    // The reader keeps the rows as the Map's CSV item reader gives them: objects keyed by the header.
    expect(readImportDirectory(fixtures).files.find((f) => f.key === 'orders.csv')!.rows[0]).toMatchObject({ customer_id: 'K002', order_id: 'O-1', amount: '59.90' });
  });

  it('reads JSON Lines one value a line, and reports a line that is not JSON', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-import-'));
    writeFileSync(path.join(dir, 'history.jsonl'), '{"source":"s","detail-type":"OrderPlaced","detail":{}}\n\n{nope\n"text"\n');
    expect(readImportDirectory(dir)).toEqual({
      files: [{ key: 'history.jsonl', format: 'jsonl', rows: [{ source: 's', 'detail-type': 'OrderPlaced', detail: {} }, 'text'], indexes: [0, 3] }],
      errors: [{ file: 'history.jsonl', line: 3, reason: 'not JSON' }],
    });
  });

  it('reads a JSON Lines file that starts with a byte-order mark and has CRLF line ends', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-import-'));
    writeFileSync(path.join(dir, 'history.jsonl'), '\uFEFF{"source":"s","detail-type":"OrderPlaced","detail":{}}\r\n{"source":"s","detail-type":"OrderPlaced","detail":{"n":2}}\r\n');
    expect(readImportDirectory(dir)).toEqual({
      files: [{ key: 'history.jsonl', format: 'jsonl', rows: [{ source: 's', 'detail-type': 'OrderPlaced', detail: {} }, { source: 's', 'detail-type': 'OrderPlaced', detail: { n: 2 } }], indexes: [0, 1] }],
      errors: [],
    });
  });

  it('reports unknown files, missing columns and bad timestamps', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-import-'));
    writeFileSync(path.join(dir, 'orders.csv'), 'customer_id,order_id,amount\nK1,O1,3\n');
    writeFileSync(path.join(dir, 'mystery.csv'), 'a\n1\n');
    writeFileSync(path.join(dir, 'usage.csv'), 'customer_id,product_id,quantity,unit,recorded_at\nK1,p,1,GB,01/02/2025\n');
    const r = importCsvDirectory(dir);
    expect(r.entries).toHaveLength(0);
    expect(r.errors).toEqual([
      { file: 'mystery.csv', line: 1, reason: expect.stringMatching(/unknown file/) },
      { file: 'orders.csv', line: 1, reason: 'missing column(s): currency, placed_at' },
      { file: 'usage.csv', line: 2, reason: expect.stringMatching(/recorded_at "01\/02\/2025" is not an ISO 8601/) },
    ]);
  });
});
