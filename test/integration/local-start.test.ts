/**
 * `npm start` as a child process, with the real handlers from wiring.ts:
 * the synthetic run proves the retention path (exit 0, emails sent > 0) for
 * any seed, prints no personal data, keeps only this run in the state files, and
 * `--keep-running` serves the bus to any AWS SDK until SIGINT.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localDynamoDbClient } from '../../local/services.ts';
import { customerCommand } from '../../cli/customer.ts';
import type { RunSummary } from '../../local/run-figures.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(repo, 'node_modules/tsx/dist/cli.mjs');
const children: ChildProcess[] = [];

function start(args: string[]) {
  const child = spawn(process.execPath, [tsx, 'local/start.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (re: RegExp, ms: number) => {
    const end = Date.now() + ms;
    while (!re.test(output)) {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before ${re}:\n${output}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${re}:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, exited, waitFor, output: () => output };
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const number = (text: string, label: string) => Number(new RegExp(`${label}\\s+([\\d,]+)`).exec(text)?.[1]?.replace(/,/g, '') ?? NaN);

describe('npm start', () => {
  it('--customers 200: replays, proves the retention path, prints the summary and exits 0', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'clm-start-'));
    writeFileSync(path.join(stateDir, 'rejected-events.jsonl'), '{"left":"by an earlier run"}\n'.repeat(7));
    const run = start(['--customers', '200', '--state-dir', stateDir]);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);
    expect(out).toMatch(/bus ServerlessClm-events;/);
    // The state file holds this run's rejections only (the earlier run's lines are gone).
    const lines = readFileSync(path.join(stateDir, 'rejected-events.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(number(out, 'rejected by ingest'));
    expect(lines.join('\n')).not.toContain('earlier run');
    // The example of the retention path names ids and the SES messageId, never an address.
    const example = /e\.g\.\s+(\{.*\})/.exec(out)?.[1];
    expect(example, out).toBeDefined();
    expect(example).not.toContain('@');
    expect(JSON.parse(example!)).toMatchObject({ customerId: expect.any(String), eventId: expect.any(String), triggerId: expect.any(String), messageId: expect.any(String) });
    expect(JSON.parse(example!)).not.toHaveProperty('email');
    expect(out).not.toMatch(/went to the default bus/);
    // The inbox dies with the run: no URL to it, but every email is kept as files, listed in an index.
    expect(out).not.toContain('SES inbox');
    const sent = number(out, 'emails sent');
    const emailsDir = path.join(stateDir, 'emails');
    expect(out).toContain(`emails sent             ${sent} → ${emailsDir}/`);
    const files = readdirSync(emailsDir);
    expect(files.filter((f) => f.endsWith('.eml'))).toHaveLength(sent);
    expect(files.filter((f) => f.endsWith('.html'))).toHaveLength(sent);
    const index = readFileSync(path.join(emailsDir, 'index.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(index).toHaveLength(sent);
    for (const e of index) {
      // The generated customers, and the two showcase customers of local/showcase.ts.
      expect(e).toMatchObject({ messageId: expect.any(String), customerId: expect.stringMatching(/^(C\d+|SHOWCASE-[A-Z]+)$/), campaign: expect.any(String), sendId: expect.any(String) });
      const eml = readFileSync(path.join(emailsDir, e.eml!), 'utf8');
      expect(eml).toMatch(/^Subject: /m);
      // Every email that carries marketing has one-click unsubscribe (a statement without marketing consent carries none).
      if (!['statement', 'invoice', 'collection-notice'].includes(e.campaign!)) expect(eml).toMatch(/^List-Unsubscribe:\s+</m); // (folded onto the next line when long)
      expect(readFileSync(path.join(emailsDir, e.html!), 'utf8')).toMatch(/^<!doctype html>/);
    }
    // Why the others were not sent: EmailSkipped by reason, adding up to the events emitted.
    const skipped = number(out, 'emails not sent');
    expect(out).toContain(`EmailSkipped ${skipped}`);
    const reasons = /emails not sent\s+\d+ skipped \((.*)\)/.exec(out)?.[1] ?? '';
    expect(reasons.split('; ').reduce((n, r) => n + Number(/ (\d+)$/.exec(r)?.[1]), 0)).toBe(skipped);
    expect(reasons).toMatch(/no-marketing-consent|prefers-|control group|cooldown|frequency-cap/);
    expect(out).toContain('Summary');
    expect(number(out, 'events ingested')).toBeGreaterThan(1000);
    expect(number(out, 'rejected by ingest')).toBeGreaterThan(0);
    expect(number(out, 'triggers fired')).toBeGreaterThan(0);
    expect(number(out, 'emails sent')).toBeGreaterThan(0);
    expect(out).toMatch(/retention path\s+OK/);
    // The path is compared with the pure pipeline's expectation for the same events.
    expect(out).toMatch(/expected\s+[\d,]+ ChurnTriggerFired → [1-9][\d,]* emailed by the pure pipeline on the same events; no difference/);
    expect(out).toContain('--run-nightly');
    // Stopped in order (event sources before services): no connection errors at the end.
    expect(out).not.toMatch(/ECONNREFUSED|socket usage at capacity/);
  }, 240_000);

  it('--nights 2 --summary-json: two nights, the second with no new events writes under 1%; the JSON holds each night', async () => {
    // 1,000 customers: the fewest for which every model fits (at least 500 ad-hoc buyers and 100 subscribers).
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'clm-nights-'));
    const file = path.join(stateDir, 'summary.json');
    const run = start(['--customers', '1000', '--seed', '1', '--now', '2026-11-23T00:00:00Z', '--nights', '2', '--summary-json', file, '--state-dir', stateDir]);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);
    // The replay is followed by a day on the local clock (deferred sends go at their customers' hours); the first
    // night is scheduled at the next UTC midnight after it, so it scores the 24th.
    expect(out).toContain('Running night 1 of 2 (run date 2026-11-24;');
    expect(out).toContain('Running night 2 of 2 (run date 2026-11-25, no new events;');
    const summary = JSON.parse(readFileSync(file, 'utf8')) as RunSummary;
    // The Summary block's figures, as printed.
    expect(summary.eventsPublished).toBe(number(out, 'events published'));
    expect(summary.eventsStored).toBe(number(out, 'events ingested'));
    // Every unique valid event generated is stored once, and besides them only what the stack records itself
    // (the showcase's new customer gets a double opt-in request: a ConsentChanged of the campaigns).
    const generated = Number(/([\d,]+) unique valid events were generated/.exec(out)![1]!.replace(/,/g, ''));
    expect(summary.eventsRecordedByStack).toBeGreaterThanOrEqual(1);
    expect(out).toContain(`${summary.eventsRecordedByStack.toLocaleString('en-US')} of them recorded by the stack itself`);
    expect(summary.eventsStored).toBe(generated + summary.eventsRecordedByStack);
    expect(summary.emailsSent).toBe(number(out, 'emails sent'));
    expect(Object.values(summary.rejectedByCode).reduce((a, b) => a + b, 0)).toBe(number(out, 'rejected by ingest'));
    expect(Object.values(summary.skippedByReason).reduce((a, b) => a + b, 0)).toBe(number(out, 'emails not sent'));
    expect(Object.values(summary.triggersByRule).reduce((a, b) => a + b, 0)).toBe(number(out, 'triggers fired'));
    const [first, second] = summary.nights;
    expect(summary.nights).toHaveLength(2);
    expect([first!.runId, first!.runDate, second!.runId, second!.runDate]).toEqual(['run-2026-11-24', '2026-11-24', 'run-2026-11-25', '2026-11-25']);
    for (const n of summary.nights) {
      expect(Object.keys(n).sort()).toEqual(['consumedReadUnits', 'consumedWriteUnits', 'customersRead', 'durationMs', 'emitted', 'failed', 'modelStatus', 'passes', 'runDate', 'runId', 'skipped', 'written']);
      // the 1,000 generated customers and the two showcase customers (local/showcase.ts)
      expect(n).toMatchObject({ customersRead: 1002, skipped: 0, failed: 0, modelStatus: 'fitted' });
      // Read from the byScoringShard index in Query pages (billed per 4 KB, docs/cost.md), plus a Query of the send
      // ledger of each customer emailed in the campaign-response window (many, in the local run): under the one unit
      // a customer that getting each profile and score item cost, and not nothing.
      expect(n.consumedReadUnits).toBeGreaterThan(0);
      expect(n.consumedReadUnits).toBeLessThan(n.customersRead);
      expect(n.consumedWriteUnits).toBeGreaterThanOrEqual(n.written);
      expect(n.durationMs).toBeGreaterThan(0);
      // CustomerRescored only for a changed tier or risk band, which always counts as a write.
      expect(n.emitted).toBeLessThanOrEqual(n.written);
    }
    // Night 1 scores every customer for the first time: all written, all emitted.
    expect(first).toMatchObject({ written: 1002, emitted: 1002, passes: 2 });
    // Night 2 scores with night 1's model while gathering its own fit sample: one pass over the index (docs/scoring.md).
    expect(second).toMatchObject({ passes: 1 });
    // Night 2 sees no new events and no new triggers: only what a day's ageing moves past a threshold against
    // the stored score is written (a value past its threshold, a rule's tenure limit passed). Before a stored tier and
    // band were kept within their values' thresholds, this night wrote 11 of 1,002 (1.1%): 9 tiers flipped at the
    // refitted cut points and 2 risk bands by a change of 0.003 and 0.001 (docs/scoring.md); none of them now.
    // Issue 7: under 1%.
    expect(second!.written).toBeLessThan(first!.customersRead / 100);
    // The same figures as printed, one line per night.
    expect(out).toContain(`"customersRead":1002,"written":${second!.written},`);
  }, 600_000); // about 7 minutes on a 2-core machine shared with other jobs (load average 20)

  it('--customers 20 --seed 2: a small run still has a deliverable billing complaint and exits 0', async () => {
    const run = start(['--customers', '20', '--seed', '2', '--state-dir', mkdtempSync(path.join(os.tmpdir(), 'clm-seed-'))]);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);
    expect(out).toMatch(/recent billing complaints?, [1-9]\d* of them deliverable/);
    expect(out).toMatch(/retention path\s+OK/);
  }, 120_000);

  it('--keep-running --import: serves PutEvents to the AWS SDK and stops cleanly on SIGINT', async () => {
    const keepDir = mkdtempSync(path.join(os.tmpdir(), 'clm-keep-'));
    const run = start(['--import', 'test/fixtures/import', '--keep-running', '--state-dir', keepDir]);
    await run.waitFor(/Ready: the local stack is running/, 90_000);
    const out = run.output();
    expect(out).toMatch(/customers\.csv:4: email/); // bad rows reported with file:line
    const bus = /bus \(PutEvents\)\s+(http:\/\/\S+)/.exec(out)![1];
    const ddbEndpoint = /DynamoDB Local\s+(http:\/\/\S+)/.exec(out)![1];
    expect(out).toMatch(/SES inbox\s+http:\/\/127\.0\.0\.1:\d+\//); // served while it keeps running
    const table = /\(table (\S+),/.exec(out)![1];

    const busName = /\(bus ([^;]+);/.exec(out)![1];
    expect(busName).toBe('ServerlessClm-events');
    const client = new EventBridgeClient({ endpoint: bus, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const res = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName,
            Source: 'com.example.support',
            DetailType: 'SupportCallLogged',
            Detail: JSON.stringify({ eventId: 'live-1', customerId: 'K001', occurredAt: new Date().toISOString(), callId: 'LIVE-1', reason: 'billing' }),
          },
          { EventBusName: busName, Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: 'nope' },
          { EventBusName: busName, Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: JSON.stringify({ eventId: 'live-2', customerId: 'K001' }) },
          // No EventBusName: the default bus, as in AWS — accepted, never ingested, and the stack warns.
          {
            Source: 'com.example.support',
            DetailType: 'SupportCallLogged',
            Detail: JSON.stringify({ eventId: 'live-default', customerId: 'K001', occurredAt: new Date().toISOString(), callId: 'LIVE-D', reason: 'billing' }),
          },
        ],
      }),
    );
    client.destroy();
    expect(res.FailedEntryCount).toBe(1);
    expect(res.Entries?.[1].ErrorCode).toBe('MalformedDetail');
    expect(res.Entries?.[3].EventId).toBeTruthy();
    await run.waitFor(/went to the "default" bus, which has no rules: set EventBusName to ServerlessClm-events/, 10_000);

    const ddb = localDynamoDbClient(ddbEndpoint);
    const end = Date.now() + 30_000;
    let item;
    while (!item && Date.now() < end) {
      item = (await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'CUST#K001' }, sk: { S: 'EVT#live-1' } } }))).Item;
      if (!item) await new Promise((r) => setTimeout(r, 200));
    }
    ddb.destroy();
    expect(item).toBeDefined();
    // The invalid one went to rejected-events, inspectable over HTTP.
    let rejected: { messages: { body: { code?: string } }[] } = { messages: [] };
    while (rejected.messages.length === 0 && Date.now() < end) {
      rejected = (await (await fetch(`${bus}/queues/rejected-events`)).json()) as typeof rejected;
      if (!rejected.messages.length) await new Promise((r) => setTimeout(r, 200));
    }
    expect(rejected.messages.length).toBeGreaterThan(0);
    const ddb2 = localDynamoDbClient(ddbEndpoint);
    const notIngested = await ddb2.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'CUST#K001' }, sk: { S: 'EVT#live-default' } } }));
    ddb2.destroy();
    expect(notIngested.Item).toBeUndefined();

    // `clm customer` against the running stack explains what became of the live complaint (K001 allows email)…
    const sendId = 'retention-save#billing-complaint#K001#live-1';
    // (deferred: held for the customer's own hour, on a timer)
    const decided = new RegExp(`\\n  \\S+  (sent|skipped|control|deferred) +retention-save +(.*)\\n +${sendId}`);
    let report = '';
    let decision: RegExpExecArray | null = null;
    const decideBy = Date.now() + 30_000;
    while (!decision && Date.now() < decideBy) {
      report = '';
      await customerCommand(['K001', '--endpoint', ddbEndpoint, '--table', table], { stdout: (t) => (report += t), stderr: (t) => (report += t) }, { env: {} });
      decision = decided.exec(report);
      if (!decision) await new Promise((r) => setTimeout(r, 300));
    }
    expect(decision, report).not.toBeNull();
    expect(report).toMatch(/billing-complaint \(single\) → retention-save/);

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('stopped.');
    expect(run.output()).not.toMatch(/ECONNREFUSED/);
    // …and an email sent while it kept running is saved when it stops.
    const messageId = decision![1] === 'sent' ? /message (\S+)/.exec(decision![2]!)![1]! : undefined;
    if (messageId) {
      expect(run.output()).toMatch(/1 more email\(s\) → /);
      expect(readFileSync(path.join(keepDir, 'emails', `${messageId}.eml`), 'utf8')).toMatch(/^Subject: /m);
    } else {
      expect(existsSync(path.join(keepDir, 'emails', 'index.jsonl'))).toBe(false);
    }
  }, 150_000);
});
