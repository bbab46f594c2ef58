import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportCommand } from '../../../cli/report.ts';
import { InMemoryReportStore } from '../../../shared/pipeline/in-memory-ports.ts';
import { reportFixture, winbackFixture } from '../../support/report-fixture.ts';

const io = () => {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (s: string) => void (out.stdout += s), stderr: (s: string) => void (out.stderr += s) } };
};

describe('clm report', () => {
  const stored = reportFixture({ customers: 200 });

  it('writes the report of the latest stored night and prints the files and the verdict', async () => {
    const store = new InMemoryReportStore();
    const leavers = await winbackFixture();
    await store.putReportPart({ ...stored, runId: 'run-2026-11-29', runDate: '2026-11-29' });
    await store.putReportPart(stored);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-report-cli-'));
    const { out, io: sink } = io();
    let asked: unknown;
    const code = await reportCommand(['--out', dir, '--table', 'T', '--cost-per-contact', '20'], sink, {
      store: (o) => ((asked = o), { store, leavers, close: () => {} }),
      now: () => new Date('2026-12-01T05:00:00Z'),
      env: {},
    });
    expect(code, out.stderr).toBe(0);
    expect(asked).toEqual({ endpoint: undefined, table: 'T', region: undefined });
    const files = ['report.html', 'report.json', 'lookalike-segment.json', 'lookalike-top-decile.csv'].map((f) => path.join(dir, f));
    expect(out.stdout.split('\n').slice(0, 4)).toEqual(files);
    expect(out.stdout).toMatch(/\nOutreach to the top \d+ at-risk customers .*a month.*: (pays|does not pay|not yet measurable)\.\n$/);
    const json = JSON.parse(readFileSync(files[1]!, 'utf8'));
    expect(json).toMatchObject({ runId: stored.runId, runDate: '2026-11-30', settings: { costPerContact: 20 }, winback: { from: '2025-12', to: '2026-11' } });
  });

  it('reads a stored aggregate from a file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-report-cli-'));
    const partFile = path.join(dir, 'part.json');
    writeFileSync(partFile, JSON.stringify(stored));
    const { out, io: sink } = io();
    expect(await reportCommand(['--part', partFile, '--out', path.join(dir, 'r'), '--currency', 'USD'], sink), out.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'r', 'report.html'))).toBe(true);
    expect(out.stdout).toContain('$');
  });

  it('refuses bad settings, a bad file and a table with no report yet, saying why', async () => {
    const a = io();
    expect(await reportCommand(['--part', 'x.json', '--cost-per-contact', 'ten'], a.io)).toBe(2);
    expect(a.out.stderr).toContain('--cost-per-contact must be a number');
    const b = io();
    expect(await reportCommand(['--part', 'x.json', '--currency', 'euro'], b.io)).toBe(2);
    expect(b.out.stderr).toContain('currency: an ISO 4217 code');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-report-cli-'));
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ runId: 'r', runDate: '2026-11-30', part: { customers: -1 } }));
    const c = io();
    expect(await reportCommand(['--part', path.join(dir, 'bad.json')], c.io)).toBe(1);
    expect(c.out.stderr).toContain('not a stored report part');
    const d = io();
    expect(await reportCommand(['--table', 'T'], d.io, { store: () => ({ store: new InMemoryReportStore(), close: () => {} }), env: {} })).toBe(1);
    expect(d.out.stderr).toContain('no nightly run has stored a report aggregate in table T yet');
    const e = io();
    expect(await reportCommand([], e.io, { env: {} })).toBe(2);
    expect(e.out.stderr).toContain('report needs the table');
  });
});
