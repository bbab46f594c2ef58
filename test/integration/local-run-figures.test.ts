/**
 * The local run (`npm start`) with a fixed seed and a fixed clock gives exactly these figures:
 * events stored, rejections, triggers fired by rule, emails sent and emails not sent by reason.
 * A lost trigger type, a lost email or a new skip reason changes them.
 *
 * The figures change, legitimately, when the synthetic generator, the rules, the guardrails or
 * the control-group assignment change. Then regenerate them (docs/testing.md):
 *   npx tsx local/start.ts --customers 100 --seed 1 --now 2026-11-23T00:00:00Z --figures /tmp/figures.json
 * check that the change explains the difference, and paste /tmp/figures.json over EXPECTED below.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunFigures } from '../../local/run-figures.ts';

const RUN_ARGS = ['--customers', '100', '--seed', '1', '--now', '2026-11-23T00:00:00Z'];

const EXPECTED: RunFigures = {
  eventsStored: 1798,
  // the showcase's new customer's double opt-in request (a ConsentChanged the campaigns function records)
  eventsRecordedByStack: 1,
  rejectedByCode: { 'invalid-detail': 8, 'unknown-detail-type': 2 },
  // usage-stopped: timers of absence the backfilled history left pending (as live events would have),
  // due within the 25 hours the local clock moves after the replay; both customers are skipped
  // (global holdout, no marketing consent).
  triggersByRule: { 'billing-complaint': 7, 'cancelled-with-winback-permission': 1, 'downgrade': 1, 'poor-resolution': 2, 'repeated-complaints': 1, 'usage-stopped': 2 },
  emailsSent: 21,
  skippedByReason: { 'global holdout (5%)': 1, 'no-marketing-consent': 3, 'prefers-phone': 3, 'prefers-push': 3 },
};

const repo = path.resolve(import.meta.dirname, '../..');

describe('npm start with a fixed seed and clock', () => {
  it(`${RUN_ARGS.join(' ')}: exact figures`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-figures-'));
    const figuresFile = path.join(dir, 'figures.json');
    const child = spawn(process.execPath, [path.join(repo, 'node_modules/tsx/dist/cli.mjs'), 'local/start.ts', ...RUN_ARGS, '--state-dir', dir, '--figures', figuresFile], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(0);
    const figures = JSON.parse(readFileSync(figuresFile, 'utf8')) as RunFigures;
    expect(figures).toEqual(EXPECTED);
    // The summary printed the same figures the file holds.
    expect(output).toMatch(new RegExp(`events ingested\\s+${EXPECTED.eventsStored.toLocaleString('en-US')} stored`));
    expect(output).toMatch(new RegExp(`emails sent\\s+${EXPECTED.emailsSent} `));
  }, 480_000);
});
