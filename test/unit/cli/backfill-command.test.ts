/**
 * clm backfill upload: its arguments, the files it takes or refuses, and (aws-sdk-client-mock)
 * the S3 and Step Functions calls it makes, with --wait and when a call fails.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from 'vitest';
import { backfillCommand, backfillFiles, executionName } from '../../../cli/backfill.ts';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Backfill';
const at = new Date('2026-12-01T17:30:00.000Z');

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-backfill-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await backfillCommand(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) }, { s3: new S3Client({ region: 'eu-west-1' }), sfn: new SFNClient({ region: 'eu-west-1' }), env, now: () => at, pollMs: 1 });
  return { code, stdout, stderr };
}

const good = () => folder({ 'orders.csv': 'customer_id,order_id,amount,currency,placed_at\nK1,O1,5,EUR,2025-01-01\n', 'more/history.jsonl': '{"source":"s","detail-type":"OrderPlaced","detail":{}}\n' });

beforeEach(() => {
  s3.reset();
  sfn.reset();
});

describe('clm backfill upload: arguments', () => {
  it('prints its help, and refuses a wrong command, a missing folder, bucket or state machine, a bad run id', async () => {
    expect((await run(['--help'])).stdout).toMatch(/^clm backfill upload <dir>/);
    expect(await run(['download', 'x'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/usage: clm backfill upload <dir>/) });
    expect(await run(['upload'])).toMatchObject({ code: 2 });
    expect(await run(['upload', '/no/such/dir', '--bucket', 'b', '--state-machine', ARN])).toMatchObject({ code: 2, stderr: expect.stringMatching(/is not a folder/) });
    const dir = good();
    expect(await run(['upload', dir])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--bucket.*CLM_BACKFILL_BUCKET.*and the state machine/) });
    expect(await run(['upload', dir, '--bucket', 'b'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/state machine.*BackfillStateMachineArn/) });
    expect(await run(['upload', dir, '--bucket', 'b', '--state-machine', 'Backfill'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/must be a state machine ARN/) });
    expect(await run(['upload', dir, '--bucket', 'b', '--state-machine', ARN, '--run-id', 'a b'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--run-id/) });
    expect(await run(['upload', dir, '--frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown option/) });
    expect(s3.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('refuses a folder with a file it cannot backfill, and uploads nothing', async () => {
    const dir = folder({ 'orders.csv': 'x\n1\n', 'notes.txt': 'hello', 'mystery.csv': 'a\n1\n', 'empty.jsonl': '' });
    const r = await run(['upload', dir, '--bucket', 'b', '--state-machine', ARN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nothing uploaded/);
    for (const f of ['notes.txt: not a backfill file', 'mystery.csv: not a backfill file', 'empty.jsonl: empty']) expect(r.stderr).toContain(f);
    expect(s3.calls()).toHaveLength(0);
  });

  it('takes the known CSV names and *.jsonl, in subfolders too; --dry-run touches nothing', async () => {
    const dir = good();
    expect(backfillFiles(dir).files.map((f) => [f.relative, f.format])).toEqual([
      ['more/history.jsonl', 'jsonl'],
      ['orders.csv', 'csv'],
    ]);
    const r = await run(['upload', dir, '--dry-run'], { CLM_BACKFILL_BUCKET: 'b', CLM_BACKFILL_STATE_MACHINE_ARN: ARN });
    expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('would upload orders.csv (csv') });
    expect(s3.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('names executions within 80 allowed characters, unique per file and start', () => {
    const name = executionName('backfill-2026-12-01T17-30-00-000Z', 0, 'a very/long path/with spaces and ümlauts/'.repeat(4) + 'orders.csv', at);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(executionName('r', 1, 'orders.csv', at)).not.toBe(executionName('r', 2, 'orders.csv', at));
  });
});

describe('clm backfill upload: AWS calls', () => {
  it('puts each file under the run id and starts one execution per file with the run, bucket, key and format', async () => {
    s3.on(PutObjectCommand).resolves({});
    sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `${ARN.replace('stateMachine', 'execution')}:${input.name}`, startDate: at }));
    const r = await run(['upload', good(), '--bucket', 'clm-backfill', '--state-machine', ARN, '--run-id', 'day-one']);
    expect(r.code).toBe(0);
    expect(s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.Bucket, c.args[0].input.Key, c.args[0].input.ContentType])).toEqual([
      ['clm-backfill', 'day-one/more/history.jsonl', 'application/jsonl'],
      ['clm-backfill', 'day-one/orders.csv', 'text/csv'],
    ]);
    expect(String(s3.commandCalls(PutObjectCommand)[1]!.args[0].input.Body)).toContain('K1,O1,5,EUR');
    const starts = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(starts.map((s) => [s.stateMachineArn, JSON.parse(s.input!)])).toEqual([
      [ARN, { runId: 'day-one', bucket: 'clm-backfill', key: 'day-one/more/history.jsonl', format: 'jsonl' }],
      [ARN, { runId: 'day-one', bucket: 'clm-backfill', key: 'day-one/orders.csv', format: 'csv' }],
    ]);
    expect(r.stdout).toContain('orders.csv: uploaded');
  });

  it('uploads a file without its UTF-8 byte-order mark (the item reader would read it into the first header), and nothing else changed', async () => {
    s3.on(PutObjectCommand).resolves({});
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${ARN.replace('stateMachine', 'execution')}:x`, startDate: at });
    const csv = 'customer_id,order_id,amount,currency,placed_at\r\nK1,O1,5,EUR,2025-01-01\r\n';
    const r = await run(['upload', folder({ 'orders.csv': `\uFEFF${csv}`, 'history.jsonl': '{"a":"\uFEFF"}\n' }), '--bucket', 'b', '--state-machine', ARN]);
    expect(r.code, r.stderr).toBe(0);
    const bodies = Object.fromEntries(s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.Key!.split('/').pop(), Buffer.from(c.args[0].input.Body as Uint8Array)]));
    expect(bodies['orders.csv']!.equals(Buffer.from(csv))).toBe(true);
    expect(bodies['history.jsonl']!.toString('utf8')).toBe('{"a":"\uFEFF"}\n');
  });

  it('with --wait, prints each summary with the rejected rows and failed batches, and fails if an execution failed', async () => {
    s3.on(PutObjectCommand).resolves({});
    sfn.on(StartExecutionCommand).callsFake((input) => ({ executionArn: `exec:${input.name}`, startDate: at }));
    const summary = { runId: 'r', file: 'r/orders.csv', batches: 1, failedBatches: 1, rowsRead: 1, rowsRejected: 1, eventsStored: 0, duplicates: 0, deferred: 0, customersWritten: 0, rejected: [{ file: 'r/orders.csv', line: 2, reason: 'amount (value) is not a number' }], failed: [{ file: 'r/orders.csv', firstLine: 3, lastLine: 502, error: 'Error boom' }] };
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold', cause: 'too many' })
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify(summary) });
    const r = await run(['upload', good(), '--bucket', 'b', '--state-machine', ARN, '--run-id', 'r', '--wait']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('more/history.jsonl: FAILED (States.ExceedToleratedFailureThreshold: too many)');
    expect(r.stdout).toContain('orders.csv: 1 rows read, 1 rejected, 0 events stored');
    expect(r.stdout).toContain('r/orders.csv:2: amount (value) is not a number');
    expect(r.stdout).toContain('failed batch r/orders.csv:3-502: Error boom');
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(3);
  });

  it('stops at a failed upload or start and says how to finish', async () => {
    s3.on(PutObjectCommand).resolves({});
    sfn.on(StartExecutionCommand).resolvesOnce({ executionArn: 'exec:1', startDate: at }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const r = await run(['upload', good(), '--bucket', 'b', '--state-machine', ARN, '--run-id', 'r']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/orders.csv: ThrottlingException: Rate exceeded \(1 file\(s\) started before it keep running; rerun with --run-id r/);
  });
});
