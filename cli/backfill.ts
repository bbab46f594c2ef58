/**
 * clm backfill upload <dir> — uploads a folder of history files to the backfill bucket and starts
 * the backfill state machine once per file (docs/backfill.md, docs/deploy.md#backfill-clm-backfill-upload).
 * `--wait` follows the executions and prints each file's summary.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { BackfillFormat, BackfillSummary } from '../shared/backfill/backfill.ts';
import { csvSpecOf, CSV_FILES } from '../shared/backfill/rows.ts';
import { commandArgs } from './command-args.ts';
import type { Io } from './main.ts';

export const BACKFILL_ENV = { bucket: 'CLM_BACKFILL_BUCKET', stateMachine: 'CLM_BACKFILL_STATE_MACHINE_ARN' } as const;
/** PutObject's limit for one object. */
export const MAX_FILE_BYTES = 5 * 1024 ** 3;

export const BACKFILL_HELP = `clm backfill upload <dir> — upload a folder of history files and backfill them (docs/backfill.md).

  Files (in <dir> and its subfolders):
    ${Object.keys(CSV_FILES).join(', ')}
                          CSV in the format of npm start -- --import (docs/local.md)
    *.jsonl               JSON Lines: one bus event a line ({"source", "detail-type", "detail"})
  Any other file is refused (nothing is uploaded). Each file is at most 5 GB (split bigger ones).

  --bucket NAME           the backfill bucket: the stack's BackfillBucketName output (default: $${BACKFILL_ENV.bucket})
  --state-machine ARN     the backfill state machine: the stack's BackfillStateMachineArn output
                          (default: $${BACKFILL_ENV.stateMachine})
  --region REGION         AWS region (default: $AWS_REGION, or from the state machine's ARN)
  --run-id ID             names the run (default: backfill-<UTC time>); the files go under <run-id>/ in the
                          bucket. Upload again with the same run id to retry a file's failed batches:
                          nothing is stored or counted twice, whatever the run id.
  --wait                  wait for the executions and print each file's summary (exit 1 if one failed)
  --dry-run               list what would be uploaded and started; touch nothing

  Uses your usual AWS credentials; needs s3:PutObject on the bucket and states:StartExecution (and, with
  --wait, states:DescribeExecution) on the state machine.
`;

export type BackfillFile = { path: string; relative: string; format: BackfillFormat; bytes: number };

/** The files of `dir` to backfill, in name order, or why the folder cannot be backfilled. */
export function backfillFiles(dir: string): { files: BackfillFile[]; problems: string[] } {
  const files: BackfillFile[] = [];
  const problems: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const stat = statSync(full);
      if (stat.isDirectory()) {
        walk(full);
        continue;
      }
      const relative = path.relative(dir, full).split(path.sep).join('/');
      if (name.startsWith('.')) continue;
      const format: BackfillFormat | undefined = name.toLowerCase().endsWith('.jsonl') ? 'jsonl' : csvSpecOf(name) ? 'csv' : undefined;
      if (!format) problems.push(`${relative}: not a backfill file (expected ${Object.keys(CSV_FILES).join(', ')} or *.jsonl)`);
      else if (stat.size > MAX_FILE_BYTES) problems.push(`${relative}: ${stat.size} bytes, over the 5 GB of one upload; split it`);
      else if (stat.size === 0) problems.push(`${relative}: empty`);
      else files.push({ path: full, relative, format, bytes: stat.size });
    }
  };
  walk(dir);
  if (files.length === 0 && problems.length === 0) problems.push(`no files in ${dir}`);
  return { files, problems };
}

/** An execution name (at most 80 of [A-Za-z0-9-_]) for one file of a run, unique per start. */
export function executionName(runId: string, index: number, relative: string, startedAt: Date): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '-');
  const suffix = `-${index + 1}-${startedAt.getTime().toString(36)}`;
  return `${clean(runId).slice(0, 40)}-${clean(relative)}`.slice(0, 80 - suffix.length) + suffix;
}

export type BackfillCommandDeps = {
  s3?: S3Client;
  sfn?: SFNClient;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Wait between DescribeExecution calls with --wait. */
  pollMs?: number;
};

const regionOfArn = (arn: string): string | undefined => /^arn:[^:]+:states:([^:]+):/.exec(arn)?.[1];

/**
 * The file's bytes without a leading UTF-8 byte-order mark (spreadsheets and exports on Windows
 * write one): the item reader would take it as part of the first header name or JSON line.
 * Nothing else is changed.
 */
export function withoutByteOrderMark(bytes: Buffer): Buffer {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/** Runs `clm backfill …`; returns the exit code. */
export async function backfillCommand(argv: string[], io: Io, deps: BackfillCommandDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const parsed = commandArgs(argv, io, BACKFILL_HELP, {
    bucket: { type: 'string' },
    'state-machine': { type: 'string' },
    region: { type: 'string' },
    'run-id': { type: 'string' },
    wait: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
  });
  if ('exit' in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  if (positionals[0] !== 'upload' || positionals.length !== 2) {
    io.stderr(`clm: usage: clm backfill upload <dir>\n\n${BACKFILL_HELP}`);
    return 2;
  }
  const dir = path.resolve(positionals[1]!);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    io.stderr(`clm: ${positionals[1]} is not a folder\n`);
    return 2;
  }
  const bucket = values.bucket ?? env[BACKFILL_ENV.bucket];
  const stateMachineArn = values['state-machine'] ?? env[BACKFILL_ENV.stateMachine];
  if (!bucket || !stateMachineArn) {
    io.stderr(`clm: backfill needs ${!bucket ? `the bucket (--bucket, or $${BACKFILL_ENV.bucket}: the stack's BackfillBucketName output)` : ''}${!bucket && !stateMachineArn ? ' and ' : ''}${!stateMachineArn ? `the state machine (--state-machine, or $${BACKFILL_ENV.stateMachine}: the stack's BackfillStateMachineArn output)` : ''}\n`);
    return 2;
  }
  if (!regionOfArn(stateMachineArn)) {
    io.stderr(`clm: --state-machine must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got ${JSON.stringify(stateMachineArn)}\n`);
    return 2;
  }
  const now = deps.now ?? (() => new Date());
  const runId = values['run-id'] ?? `backfill-${now().toISOString().replace(/[:.]/g, '-')}`;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(runId)) {
    io.stderr(`clm: --run-id takes 1 to 64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(runId)}\n`);
    return 2;
  }
  const { files, problems } = backfillFiles(dir);
  if (problems.length) {
    io.stderr(`clm: nothing uploaded; fix these first:\n${problems.map((p) => `  ${p}\n`).join('')}`);
    return 2;
  }
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? regionOfArn(stateMachineArn);
  io.stdout(`run ${runId}: ${files.length} file(s) → s3://${bucket}/${runId}/, state machine ${stateMachineArn}\n`);
  if (values['dry-run']) {
    for (const f of files) io.stdout(`  would upload ${f.relative} (${f.format}, ${f.bytes} bytes) and start its backfill\n`);
    return 0;
  }
  const s3 = deps.s3 ?? new S3Client({ region });
  const sfn = deps.sfn ?? new SFNClient({ region });
  try {
    const started: { file: BackfillFile; executionArn: string }[] = [];
    for (const [i, f] of files.entries()) {
      const key = `${runId}/${f.relative}`;
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: withoutByteOrderMark(readFileSync(f.path)), ContentType: f.format === 'csv' ? 'text/csv' : 'application/jsonl' }));
        const out = await sfn.send(
          new StartExecutionCommand({ stateMachineArn, name: executionName(runId, i, f.relative, now()), input: JSON.stringify({ runId, bucket, key, format: f.format }) }),
        );
        started.push({ file: f, executionArn: out.executionArn! });
        io.stdout(`  ${f.relative}: uploaded (${f.bytes} bytes), backfill started ${out.executionArn}\n`);
      } catch (e) {
        const err = e as Error;
        io.stderr(`clm: ${f.relative}: ${err.name}: ${err.message}${started.length ? ` (${started.length} file(s) started before it keep running; rerun with --run-id ${runId} to finish: nothing is stored twice)` : ''}\n`);
        return 1;
      }
    }
    if (!values.wait) return 0;
    let failed = 0;
    for (const { file, executionArn } of started) {
      for (;;) {
        const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (d.status === 'RUNNING' || d.status === 'PENDING_REDRIVE') {
          await new Promise((r) => setTimeout(r, deps.pollMs ?? 10_000));
          continue;
        }
        if (d.status === 'SUCCEEDED') {
          const s = JSON.parse(d.output ?? '{}') as BackfillSummary;
          if (s.failedBatches) failed++;
          io.stdout(
            `  ${file.relative}: ${s.rowsRead} rows read, ${s.rowsRejected} rejected, ${s.eventsStored} events stored, ${s.duplicates} duplicates, ${s.customersWritten} customer writes, ${s.failedBatches} failed batches\n`,
          );
          for (const r of s.rejected ?? []) io.stdout(`    ${r.file}:${r.line}: ${r.reason}\n`);
          for (const b of s.failed ?? []) io.stdout(`    failed batch ${b.file}:${b.firstLine}-${b.lastLine}: ${b.error}\n`);
        } else {
          failed++;
          io.stdout(`  ${file.relative}: ${d.status}${d.error ? ` (${d.error}${d.cause ? `: ${d.cause.slice(0, 300)}` : ''})` : ''}\n`);
        }
        break;
      }
    }
    return failed ? 1 : 0;
  } finally {
    if (!deps.s3) s3.destroy();
    if (!deps.sfn) sfn.destroy();
  }
}
