/**
 * `npm start -- --nights 2 --outreach-effect R` as a child process: the customers the first
 * night plans for outreach go through the churn horizon as the synthetic true effect says
 * (through the bus), the second night comes after it, and its report (written to the state
 * directory) knows every outcome and measures the churn reduction with its intervals.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ReportFigures } from '../../shared/report/figures.ts';

const repo = path.resolve(import.meta.dirname, '../..');

// A long run (a local night, 92 simulated days and a second night for 1,000 customers): part of
// `npm run test:all` (CI), not of the default `npm test` (docs/testing.md, "Long runs").
describe.skipIf(!process.env.CLM_SLOW_TESTS)('npm start with --outreach-effect', () => {
  it('--customers 1000 --nights 2 --outreach-effect 0.5: the second night, after the churn horizon, measures the follow-up of the first night\'s plan', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'clm-effect-'));
    const args = ['--customers', '1000', '--seed', '1', '--now', '2026-11-23T00:00:00Z', '--nights', '2', '--outreach-effect', '0.5', '--state-dir', stateDir];
    const child = spawn(process.execPath, [path.join(repo, 'node_modules/tsx/dist/cli.mjs'), 'local/start.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);

    const line =
      /outreach follow-up \(--outreach-effect 0\.5\): of the (\d+) customers planned on 2026-11-24 \((\d+) treated, (\d+) control\), (\d+) churn by the true effect in the 92 days after: (\d+) subscribers cancel, (\d+) ad-hoc buyers who stay buy again \((\d+) of (\d+) events accepted by the bus; the clock moved to 2027-02-24T11:00Z\)/.exec(out);
    expect(line, out).not.toBeNull();
    const [planned, treated, control, churning, cancelling, buying, accepted, events] = line!.slice(1).map(Number) as [number, number, number, number, number, number, number, number];
    expect(planned).toBe(treated + control);
    expect(planned).toBeGreaterThan(100);
    expect(cancelling + buying).toBeGreaterThan(0);
    expect(cancelling).toBeLessThanOrEqual(churning);
    expect(accepted).toBe(events);
    expect(out).toContain('Running night 2 of 2 (run date 2027-02-24, after the outreach follow-up;');

    const report = JSON.parse(readFileSync(path.join(stateDir, 'report', 'report.json'), 'utf8')) as ReportFigures;
    expect(report.runDate).toBe('2027-02-24');
    const period = report.outreach.periods.find((p) => p.period === '2026-11')!;
    expect(period.treated.assigned + period.control.assigned).toBe(planned);
    expect(period.treated.assigned).toBe(treated);
    // the horizon has passed: every outcome is known, and those the true effect made churn are counted as churned
    expect(period.treated.observed + period.control.observed).toBe(planned);
    expect(period.treated.churned + period.control.churned).toBeGreaterThanOrEqual(cancelling);
    expect(period.treated.churned + period.control.churned).toBeLessThanOrEqual(planned - buying);
    const r = period.churnReduction!;
    expect(r.low).toBeLessThan(r.estimate);
    expect(r.estimate).toBeLessThan(r.high);
    expect(r.bootstrap.low).toBeLessThan(r.bootstrap.high);
    expect(report.outreach.verdict).toMatch(/^Outreach to the top \d+ at-risk customers retained -?[\d.]+ ± [\d.]+ customers and /);
    expect(out).toContain(report.outreach.verdict);
    // the winback section, read from DynamoDB Local's leaver facts of the 12 months up to the run date
    expect(report.winback).toMatchObject({ from: '2026-03', to: '2027-02' });
  }, 2_400_000); // 12 minutes on a 2-core machine shared with other jobs; 36 at load average 118
});
