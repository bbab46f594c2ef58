/**
 * `npm start` as a child process, with the real handlers from wiring.ts:
 * the synthetic run proves the retention path (exit 0, emails sent > 0), and
 * `--keep-running` serves the bus to any AWS SDK until SIGINT.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localDynamoDbClient } from '../../local/services.ts';

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
    const run = start(['--customers', '200', '--state-dir', mkdtempSync(path.join(os.tmpdir(), 'clm-start-'))]);
    const code = await run.exited;
    const out = run.output();
    expect(code, out).toBe(0);
    expect(out).toMatch(/SES inbox\s+http:\/\/127\.0\.0\.1:\d+\//);
    expect(out).toContain('Summary');
    expect(number(out, 'events ingested')).toBeGreaterThan(1000);
    expect(number(out, 'rejected by ingest')).toBeGreaterThan(0);
    expect(number(out, 'triggers fired')).toBeGreaterThan(0);
    expect(number(out, 'emails sent')).toBeGreaterThan(0);
    expect(out).toMatch(/retention path\s+OK/);
    expect(out).toContain('--run-nightly');
  }, 240_000);

  it('--keep-running --import: serves PutEvents to the AWS SDK and stops cleanly on SIGINT', async () => {
    const run = start(['--import', 'test/fixtures/import', '--keep-running', '--state-dir', mkdtempSync(path.join(os.tmpdir(), 'clm-keep-'))]);
    await run.waitFor(/Ready: the local stack is running/, 90_000);
    const out = run.output();
    expect(out).toMatch(/customers\.csv:4: email/); // bad rows reported with file:line
    const bus = /bus \(PutEvents\)\s+(http:\/\/\S+)/.exec(out)![1];
    const ddbEndpoint = /DynamoDB Local\s+(http:\/\/\S+)/.exec(out)![1];
    const table = /\(table (\S+),/.exec(out)![1];

    const client = new EventBridgeClient({ endpoint: bus, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const res = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'com.example.support',
            DetailType: 'SupportCallLogged',
            Detail: JSON.stringify({ eventId: 'live-1', customerId: 'K001', occurredAt: new Date().toISOString(), callId: 'LIVE-1', reason: 'billing' }),
          },
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: 'nope' },
          { Source: 'com.example.support', DetailType: 'SupportCallLogged', Detail: JSON.stringify({ eventId: 'live-2', customerId: 'K001' }) },
        ],
      }),
    );
    client.destroy();
    expect(res.FailedEntryCount).toBe(1);
    expect(res.Entries?.[1].ErrorCode).toBe('MalformedDetail');

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

    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('stopped.');
  }, 150_000);
});
