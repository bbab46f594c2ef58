/**
 * `npm start`: boots the local stack, fills it with a synthetic customer base
 * (or your CSVs), replays the business events through the local bus into the
 * same handlers that run in Lambda, proves the retention path end to end and
 * prints a summary. See docs/local.md.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './services.ts';
import { toBatches } from './bus.ts';
import { EMAILS_DIR, REJECTED_QUEUE, startLocalStack, type LocalStack } from './local-stack.ts';
import { generate, splitHistory, type GeneratedEntry } from './synthetic/generate.ts';
import { readImportDirectory } from './import/import-csv.ts';
import { prepareBackfillRun, runBackfillStateMachine, type LocalBackfillFile } from './backfill-run.ts';
import type { BackfillSummary } from '../shared/backfill/backfill.ts';
import { triggerConfig } from '../shared/triggers/config.ts';
import { advanceClock, parseNow, realNow, startClockAt } from './clock.ts';
import { runFigures, type BackfillFigures, type NightFigures, type RunSummary } from './run-figures.ts';
import { showcaseEntries } from './showcase.ts';
import { writeFileSync } from 'node:fs';

/** Hours the local clock moves forward after the replay so that deferred sends go (a day: every local hour comes once). */
const DEFERRAL_HOURS = 25;

const HELP = `Usage: npm start -- [options]

  --customers N        synthetic customers to generate (default 5000)
  --seed S             seed of the synthetic data (default 42)
  --now TIME           run as if it were TIME (ISO 8601, e.g. 2026-11-23T00:00:00Z): the data is
                       generated up to TIME and the clock starts there (default: the real time)
  --figures FILE       write the run's figures (stored, triggers by rule, emails sent and skipped
                       by reason) to FILE as JSON
  --import DIR         backfill your own CSVs and JSON Lines from DIR instead (format: docs/local.md)
  --dynamodb-port P    port for DynamoDB Local (default: a free port)
  --ses-port P         port for the SES emulator and its inbox (default: a free port)
  --bus-port P         port for the local bus (EventBridge PutEvents + SQS) (default: a free port)
  --pages-port P       port for the public pages (unsubscribe, help page, exit survey) (default: a free port)
  --state-dir DIR      where rejected events, dead letters and the sent emails are written, this run only (default .local)
  --run-nightly        run the nightly state machine once after the replay (= --nights 1)
  --nights N           run the nightly state machine N times after the replay, one night after
                       another (the first scores the replay's day, each later one the next day;
                       later nights see no new events, but for --outreach-effect's)
  --outreach-effect R  with --nights 2 or more: after each night but the last, the customers it
                       planned for outreach go through the churn horizon as the synthetic true
                       effect says (each churns with her churn risk at planning as the chance,
                       treated ones × (1 − R), e.g. 0.2: subscribers cancel, ad-hoc buyers who
                       stay buy again) and the next night comes after the horizon (92 days
                       later), so its report measures the effect
  --summary-json FILE  write the run's summary (the Summary figures and each night's) to FILE as JSON
  --keep-running       leave everything up and serve the bus until Ctrl-C
  -h, --help           this help
`;

type Args = {
  customers: number;
  seed: number;
  now?: Date;
  figuresFile?: string;
  importDir?: string;
  dynamodbPort?: number;
  sesPort?: number;
  busPort?: number;
  pagesPort?: number;
  stateDir: string;
  nights: number;
  outreachEffect?: number;
  summaryJsonFile?: string;
  keepRunning: boolean;
};

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      customers: { type: 'string' },
      seed: { type: 'string' },
      now: { type: 'string' },
      figures: { type: 'string' },
      import: { type: 'string' },
      'dynamodb-port': { type: 'string' },
      'ses-port': { type: 'string' },
      'bus-port': { type: 'string' },
      'pages-port': { type: 'string' },
      'state-dir': { type: 'string' },
      'run-nightly': { type: 'boolean' },
      nights: { type: 'string' },
      'outreach-effect': { type: 'string' },
      'summary-json': { type: 'string' },
      'keep-running': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const int = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
    return n;
  };
  const share = (name: string, v: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !(x >= 0 && x <= 1)) throw new Error(`--${name} must be a number from 0 to 1, got "${v}"`);
    return x;
  };
  return {
    customers: int('customers', values.customers, 1, 1_000_000) ?? 5000,
    seed: int('seed', values.seed, 0, 2 ** 32 - 1) ?? 42,
    now: values.now === undefined ? undefined : parseNow(values.now),
    figuresFile: values.figures,
    importDir: values.import,
    dynamodbPort: int('dynamodb-port', values['dynamodb-port'], 1, 65535),
    sesPort: int('ses-port', values['ses-port'], 1, 65535),
    busPort: int('bus-port', values['bus-port'], 1, 65535),
    pagesPort: int('pages-port', values['pages-port'], 1, 65535),
    stateDir: values['state-dir'] ?? '.local',
    nights: int('nights', values.nights, 1, 366) ?? (values['run-nightly'] ? 1 : 0),
    ...(values['outreach-effect'] !== undefined && { outreachEffect: share('outreach-effect', values['outreach-effect']) }),
    summaryJsonFile: values['summary-json'],
    keepRunning: values['keep-running'] ?? false,
  };
}

const fmt = (n: number) => n.toLocaleString('en-US');
/** The generated history is backfilled in files of at most this many rows (one state machine execution each). */
const HISTORY_ROWS_PER_FILE = 100_000;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const out = (line = '') => process.stdout.write(line + '\n');

type ReplayResult = { sent: number; accepted: number; entryErrors: Map<string, number>; requestErrors: Map<string, number> };

/** Publishes the entries through the local bus endpoint with the AWS SDK, as a producer would. */
async function replay(stack: LocalStack, entries: GeneratedEntry[], onProgress: (done: number) => void): Promise<ReplayResult> {
  const client = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 3 });
  const result: ReplayResult = { sent: 0, accepted: 0, entryErrors: new Map(), requestErrors: new Map() };
  const batches = toBatches(entries);
  const parallel = 8;
  try {
    for (let i = 0; i < batches.length; i += parallel) {
      await Promise.all(
        batches.slice(i, i + parallel).map(async (batch) => {
          result.sent += batch.length;
          try {
            const res = await client.send(new PutEventsCommand({ Entries: batch.map((e) => ({ ...e, EventBusName: stack.busName }) as PutEventsRequestEntry) }));
            for (const r of res.Entries ?? []) {
              if (r.ErrorCode) result.entryErrors.set(r.ErrorCode, (result.entryErrors.get(r.ErrorCode) ?? 0) + 1);
              else result.accepted++;
            }
          } catch (e) {
            const key = `${(e as Error).name}: ${(e as Error).message}`;
            result.requestErrors.set(key, (result.requestErrors.get(key) ?? 0) + batch.length);
          }
        }),
      );
      onProgress(result.sent);
      // Let the consumers keep up a little (back-pressure), as a producer's rate would.
      const depth = stack.queues.get('BusinessEventsToIngest')?.visibleCount ?? 0;
      if (depth > 5000) await new Promise((r) => setTimeout(r, Math.min(200, depth / 100)));
    }
  } finally {
    client.destroy();
  }
  return result;
}

/**
 * --outreach-effect: the customers tonight planned go through the churn horizon as the synthetic
 * true effect says (local/outreach-follow-up.ts). The clock moves to 11:00 UTC of the day the
 * horizon ends, the follow-up's events (dated up to 10:00 that day) take the live path, and the
 * next night scores that day. Returns the days from tonight's run date to the next one's.
 */
async function followUpOutreach(stack: LocalStack, args: Args, runDate: string, print: (line: string) => void): Promise<number> {
  const { followUpDays, localOutreachFollowUp } = await import('./outreach-follow-up.ts');
  const { defaultScoringConfig: config } = await import('../shared/scoring/config.ts');
  const days = followUpDays(config.churn.horizonMonths);
  const until = new Date(Date.parse(`${runDate}T11:00:00Z`) + days * 86_400_000);
  if (until.getTime() > Date.now()) advanceClock(until.getTime() - Date.now());
  const f = await localOutreachFollowUp({
    endpoint: stack.endpoints.dynamodb,
    tableName: stack.tableName,
    experimentId: config.outreach.experimentId,
    runDate,
    seed: args.seed,
    horizonMonths: config.churn.horizonMonths,
    effect: { relativeChurnReduction: args.outreachEffect! },
  });
  const result = await replay(stack, f.entries, () => {});
  await stack.waitForIdle();
  const treated = f.planned.filter((a) => a.group === 'treatment').length;
  const kinds = f.entries.map((e) => e.DetailType);
  const cancelling = new Set(f.entries.filter((e) => e.DetailType === 'SubscriptionCancelled').map((e) => (JSON.parse(e.Detail) as { customerId: string }).customerId)).size;
  print(
    `  outreach follow-up (--outreach-effect ${args.outreachEffect}): of the ${fmt(f.planned.length)} customers planned on ${runDate} (${fmt(treated)} treated, ${fmt(f.planned.length - treated)} control), ${fmt(f.churning)} churn by the true effect in the ${days} days after: ${fmt(cancelling)} subscribers cancel, ${fmt(kinds.filter((k) => k === 'OrderPlaced').length)} ad-hoc buyers who stay buy again (${fmt(result.accepted)} of ${fmt(f.entries.length)} events accepted by the bus; the clock moved to ${until.toISOString().slice(0, 16)}Z)`,
  );
  return days;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (args.now) startClockAt(args.now);
  const started = realNow();
  // Handler logs: warnings and errors would drown the summary; POWERTOOLS_LOG_LEVEL=INFO npm start shows more.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  out('serverless-clm local stack');
  out('  starting DynamoDB Local, the SES emulator and the local bus…');
  // Stop everything on SIGINT/SIGTERM, when a service dies, or when the parent process is gone
  // (npm or a terminal killed with SIGKILL): the services exit with this process anyway (see
  // local/services.ts), but this way the event sources are stopped first, quietly.
  let stack: LocalStack | undefined;
  let stopping = false;
  let keepRunningPhase = false;
  const starting = startLocalStack({
    dynamodbPort: args.dynamodbPort,
    sesPort: args.sesPort,
    busPort: args.busPort,
    pagesPort: args.pagesPort,
    stateDir: args.stateDir,
    log: (line) => process.stderr.write(`  ${line}\n`),
  });
  // The backfill's synthesized definition, while the services start (their processes boot meanwhile).
  const backfillPrepared = new Promise((r) => setTimeout(r, 50)).then(prepareBackfillRun);
  backfillPrepared.catch(() => {}); // its error, if any, is the backfill's below
  const shutdown = async (why: string, code: number, again: 'exit' | 'ignore' = 'ignore') => {
    if (stopping) {
      if (again === 'ignore') return;
      // A second Ctrl-C: do not wait (the services still exit with this process).
      out(`\n${why} again: exiting now`);
      process.exit(code);
    }
    stopping = true;
    out(`\n${why}: stopping pollers, the bus server and the local services…`);
    await starting.catch(() => {});
    if (keepRunningPhase && stack) {
      // Emails sent while it kept running are kept too (skipped if the emulator is already gone).
      await stack.saveEmails().then(
        (r) => r.written && out(`  ${fmt(r.written)} more email(s) → ${r.dir}/`),
        () => {},
      );
    }
    await stack?.stop();
    out('stopped.');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void shutdown(signal, keepRunningPhase ? 0 : 128 + os.constants.signals[signal], 'exit'));
  }
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) void shutdown(`the parent process (${parentPid}) is gone`, 1);
  }, 500).unref();
  stack = await starting;
  void stack.serviceExited.then((why) => shutdown(`${why} unexpectedly`, 1));

  const printEndpoints = () => {
    out(`  DynamoDB Local     ${stack.endpoints.dynamodb}   (table ${stack.tableName}, stream ${stack.streamArn})`);
    // The inbox is served only while the stack runs: its URL only when it stays up.
    if (args.keepRunning) out(`  SES inbox          ${stack.endpoints.sesInbox}   (JSON: ${stack.endpoints.sesStore})`);
    else out(`  SES emulator       ${stack.endpoints.ses}   (emails are saved to ${path.join(stack.stateDir, EMAILS_DIR)}/)`);
    out(`  bus (PutEvents)    ${stack.endpoints.bus}   (bus ${stack.busName}; SQS on the same endpoint; queues at ${stack.endpoints.bus}/queues)`);
    out(`  public pages       ${stack.endpoints.pages}   (/u/TOKEN, /learn/TOKEN, /exit/TOKEN: the links in the emails)`);
  };
  printEndpoints();
  out(`  up in ${secs(realNow() - started)}`);

  // Data: history to backfill (through the backfill state machine), recent entries to replay through the bus.
  let entries: GeneratedEntry[];
  let backfillFiles: LocalBackfillFile[];
  let isImport = false;
  let expectedUnique: number | undefined;
  if (args.importDir) {
    isImport = true;
    const dir = path.resolve(args.importDir);
    const result = readImportDirectory(dir);
    out(`\nImported ${dir} (backfilled as \`clm backfill upload\` does in AWS: one state machine execution per file)`);
    for (const f of result.files) out(`  ${f.key.padEnd(22)} ${fmt(f.rows.length)} ${f.format === 'csv' ? 'rows' : 'lines'}`);
    if (result.errors.length) {
      out(`  ${result.errors.length} problem(s) reading the files:`);
      for (const e of result.errors) out(`    ${e.file}:${e.line}: ${e.reason}`);
    }
    backfillFiles = result.files;
    entries = [];
  } else {
    const t = Date.now();
    const data = await generate({ customers: args.customers, seed: args.seed, controlGroupPercent: stack.controlGroupPercent, controlGroupExperiment: stack.controlGroupExperiment, now: args.now });
    const s = data.stats;
    const malformed = Object.values(s.malformed).reduce((a, b) => a + b, 0);
    expectedUnique = s.events - s.duplicates - malformed;
    out(`\nGenerated ${fmt(s.customers)} customers (seed ${args.seed}) in ${secs(Date.now() - t)}`);
    out(`  ${fmt(s.subscriptionCustomers)} subscription customers, ${fmt(s.adhocCustomers)} ad-hoc buyers, ${fmt(s.emailConsent)} allow email marketing`);
    out(`  ${fmt(s.events)} events: ${Object.entries(s.byType).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
    out(`  with ${fmt(s.outOfOrder)} out of order, ${fmt(s.duplicates)} duplicates and ${malformed} deliberately malformed`);
    out(`  ${fmt(s.recentBillingComplaints)} recent billing complaints, ${fmt(s.deliverableBillingComplaints)} of them deliverable (emailed when the pure pipeline replays the events now, with the real rules and guardrails and a ${stack.controlGroupPercent}% control group)`);
    const { history, recent } = splitHistory(data);
    out(`  history before ${data.liveFrom.toISOString().slice(0, 10)}: ${fmt(history.length)} events, backfilled; the ${fmt(recent.length)} after it (and the malformed ones) go through the bus`);
    const toRow = (e: GeneratedEntry) => {
      let detail: unknown = e.Detail;
      try {
        detail = JSON.parse(e.Detail);
      } catch {
        // kept as the text: the backfill rejects it, as ingest would
      }
      return { source: e.Source, 'detail-type': e.DetailType, detail };
    };
    // In files of at most HISTORY_ROWS_PER_FILE rows, as an export in parts (each file is one execution, whose rows are its input here).
    const rows = history.map(toRow);
    backfillFiles = [];
    for (let i = 0; i < rows.length; i += HISTORY_ROWS_PER_FILE) {
      backfillFiles.push({ key: rows.length > HISTORY_ROWS_PER_FILE ? `history-${String(backfillFiles.length + 1).padStart(3, '0')}.jsonl` : 'history.jsonl', format: 'jsonl', rows: rows.slice(i, i + HISTORY_ROWS_PER_FILE) });
    }
    // The retention path's expectation runs the pure pipeline on the customers with a billing
    // complaint in the recent entries (shared/pipeline/billing-path.ts), with all their events:
    // their history first, as it was loaded.
    const complainers = new Set(
      recent.flatMap((e) => {
        if (e.DetailType !== 'SupportCallLogged') return [];
        try {
          const d = JSON.parse(e.Detail) as { reason?: string; customerId?: string };
          return d.reason === 'billing' ? [String(d.customerId)] : [];
        } catch {
          return [];
        }
      }),
    );
    for (const row of rows) {
      if (complainers.has(String((row.detail as { customerId?: unknown })?.customerId))) stack.trace.ingestBodies.push(JSON.stringify(row));
    }
    // Two customers of their own whose events happen now: the welcome and a collection notice (local/showcase.ts).
    const showcase = showcaseEntries(args.now ?? new Date());
    entries = [...recent, ...showcase];
    expectedUnique += showcase.length;
    out(`  and ${showcase.length} showcase events (local/showcase.ts): a new customer's first order, a subscriber's failed payment`);
  }

  // Backfill: the synthesized backfill state machine, one execution per file, in an ASL interpreter.
  const backfill: BackfillFigures = { files: backfillFiles.length, rowsRead: 0, rowsRejected: 0, eventsStored: 0, duplicates: 0, customersWritten: 0, failedBatches: 0, durationMs: 0 };
  const backfillStarted = Date.now();
  await backfillPrepared;
  for (const file of backfillFiles) {
    out(`\nBackfilling ${file.key}: ${fmt(file.rows.length)} rows through the backfill state machine (the definition CDK synthesizes, in an ASL interpreter)…`);
    const t = Date.now();
    let summary: BackfillSummary;
    try {
      summary = await runBackfillStateMachine({ runId: isImport ? 'local-import' : `local-seed-${args.seed}`, file, region: LOCAL_REGION });
    } catch (e) {
      out(`  FAILED: ${(e as Error)?.message ?? e}`);
      backfill.failedBatches++;
      continue;
    }
    out(
      `  done in ${secs(Date.now() - t)}: ${fmt(summary.rowsRead)} rows read, ${fmt(summary.rowsRejected)} rejected, ${fmt(summary.eventsStored)} events stored, ${fmt(summary.duplicates)} duplicates, ${fmt(summary.customersWritten)} customer writes in ${fmt(summary.batches)} batches${summary.failedBatches ? `, ${fmt(summary.failedBatches)} FAILED batches` : ''}`,
    );
    for (const r of summary.rejected) out(`    ${r.file}:${r.line}: ${r.reason}`);
    if (summary.rowsRejected > summary.rejected.length) out(`    … and ${fmt(summary.rowsRejected - summary.rejected.length)} more rejected rows`);
    for (const b of summary.failed) out(`    failed batch ${b.file}:${b.firstLine}-${b.lastLine}: ${b.error}`);
    for (const k of ['rowsRead', 'rowsRejected', 'eventsStored', 'duplicates', 'customersWritten', 'failedBatches'] as const) backfill[k] += summary[k];
  }
  backfill.durationMs = Date.now() - backfillStarted;

  // Replay.
  out(`\nReplaying ${fmt(entries.length)} events through the local bus (AWS SDK PutEvents, ≤10 per call)…`);
  const replayStarted = Date.now();
  let lastProgress = Date.now();
  const replayResult = await replay(stack, entries, (done) => {
    if (Date.now() - lastProgress > 5000) {
      lastProgress = Date.now();
      const c = stack.consumers.get('BusinessEventsToIngest');
      out(`  … ${fmt(done)} / ${fmt(entries.length)} published, ${fmt(c?.succeeded ?? 0)} ingested`);
    }
  });
  out(`  published in ${secs(Date.now() - replayStarted)}; waiting for the queues to drain and the stream to catch up…`);
  const progress = setInterval(() => {
    const c = stack.consumers.get('BusinessEventsToIngest');
    const p = [...stack.pollers.values()][0];
    out(`  … ${fmt(c?.succeeded ?? 0)} messages ingested, ${fmt(stack.queues.get('BusinessEventsToIngest')?.visibleCount ?? 0)} waiting; stream: ${fmt(p?.stats.recordsRead ?? 0)} records read, ${fmt(p?.stats.recordsMatched ?? 0)} delivered`);
  }, 10_000);
  try {
    await stack.waitForIdle();
  } finally {
    clearInterval(progress);
  }
  out(`  idle after ${secs(Date.now() - replayStarted)}`);

  // One timer sweep, as the TimerSweep schedule runs every few minutes in AWS: the timers already due
  // (an order stuck in "preparing" for 10 days, usage stopped for 30) fire now (docs/triggers.md).
  const sweep = await stack.sweepTimers();
  const swept = (sweep.result ?? {}) as Partial<Record<'due' | 'fired' | 'superseded' | 'retried' | 'gaveUp', number>>;
  out(
    sweep.ok
      ? `  timer sweep: ${fmt(swept.due ?? 0)} due → ${fmt(swept.fired ?? 0)} handled, ${fmt(swept.superseded ?? 0)} set again for later (the state was renewed), ${fmt((swept.retried ?? 0) + (swept.gaveUp ?? 0))} failed (${secs(sweep.ms)})`
      : `  timer sweep FAILED: ${sweep.error}`,
  );
  // Sends held for the customer's own hour (quiet hours, preferred hour) wait on durable timers:
  // move the local clock a day forward, an hour at a time, sweeping the timers each hour, so each
  // goes at its customer's hour, as the TimerSweep schedule would send it in AWS.
  const sentBefore = (await stack.counters()).emailsSent;
  const clockFrom = new Date();
  for (let hour = 0; hour < DEFERRAL_HOURS; hour++) {
    advanceClock(3_600_000);
    await stack.sweepTimers();
  }
  out(
    `\nMoved the local clock ${DEFERRAL_HOURS} h forward (${clockFrom.toISOString().slice(0, 16)}Z → ${new Date().toISOString().slice(0, 16)}Z), sweeping the timers every hour: ${fmt((await stack.counters()).emailsSent - sentBefore)} emails went at their customers' hours (deferred sends) or after their timers fired`,
  );

  const schedules = (await import('../shared/wiring.ts')).subscriptions.filter((s) => s.kind === 'schedule');
  let retentionPathBeforeFollowUp: Awaited<ReturnType<typeof stack.verifyRetentionPath>> | undefined;
  const nights: NightFigures[] = [];
  if (args.nights) {
    const { runNightlyStateMachine } = await import('./nightly-run.ts');
    const { runDateOf } = await import('../shared/scoring/nightly-run.ts');
    const { runIdOf } = await import('../shared/scoring/nightly-steps.ts');
    // The first night is the one after the replay: scheduled at the next UTC midnight, so its run
    // date is the replay's day and the triggers the replay fired count tonight (a night scheduled
    // now would score yesterday, and those triggers would first count on the next, quiet night).
    const firstScheduled = new Date(Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000);
    // --outreach-effect: the night after a follow-up comes when its outcomes are known (the churn horizon later).
    let extraDays = 0;
    for (let i = 0; i < args.nights; i++) {
      // Each night is scheduled a day after the one before: its own run date and run id; no new events arrive in between.
      const scheduledTime = new Date(firstScheduled.getTime() + (i + extraDays) * 86_400_000);
      const runDate = runDateOf(scheduledTime.toISOString());
      out(
        args.nights === 1
          ? '\nRunning the nightly state machine once (--run-nightly; the definition CDK synthesizes, in an ASL interpreter)…'
          : `\nRunning night ${i + 1} of ${args.nights} (run date ${runDate}${i ? (args.outreachEffect !== undefined ? ', after the outreach follow-up' : ', no new events') : ''}; the definition CDK synthesizes, in an ASL interpreter)…`,
      );
      const nightStarted = Date.now();
      const figures: NightFigures = { runId: runIdOf(runDate), runDate, customersRead: 0, written: 0, skipped: 0, failed: 0, emitted: 0, consumedReadUnits: 0, consumedWriteUnits: 0, durationMs: 0, modelStatus: 'not run', passes: 0 };
      try {
        const night = (await runNightlyStateMachine({ region: LOCAL_REGION, scheduledTime })) as { fit: Record<string, unknown>; summary: Record<string, unknown>; outreach: Record<string, unknown>; passes?: number };
        figures.durationMs = Date.now() - nightStarted;
        const { durations: _, ...summary } = night.summary;
        for (const k of ['customersRead', 'written', 'skipped', 'failed', 'emitted', 'consumedReadUnits', 'consumedWriteUnits'] as const) figures[k] = Number(summary[k] ?? 0);
        figures.modelStatus = String(night.fit.status);
        figures.passes = night.passes ?? 2;
        out(`  done in ${secs(figures.durationMs)}: ${JSON.stringify(summary)}`);
        out(`  models (${figures.passes === 1 ? 'one pass: scored with the night before\'s model, then fitted' : 'two passes: fitted, then scored'}): ${JSON.stringify(night.fit)}`);
        out(`  outreach: ${JSON.stringify(night.outreach)}`);
      } catch (e) {
        figures.durationMs = Date.now() - nightStarted;
        figures.error = String((e as Error)?.message ?? e);
        out(`  FAILED: ${figures.error} (${secs(figures.durationMs)})`);
      }
      nights.push(figures);
      await stack.waitForIdle();
      if (args.outreachEffect !== undefined && i < args.nights - 1) {
        // The retention path is checked on the triggers of the last days of the clock: before the follow-up moves it months on.
        retentionPathBeforeFollowUp ??= await stack.verifyRetentionPath();
        extraDays += (await followUpOutreach(stack, args, runDate, out)) - 1;
      }
    }
  } else if (schedules.length) {
    out(`\nThe nightly schedule (${schedules.filter((s) => s.id !== 'TimerSweep').map((s) => s.id).join(', ')}) is not fired automatically; --run-nightly runs it after the replay. The timer sweep ran once after the replay.`);
  }
  let report: Awaited<ReturnType<typeof import('./report.ts').writeLocalReport>>;
  if (args.nights) {
    const { writeLocalReport } = await import('./report.ts');
    report = await writeLocalReport({ endpoint: stack.endpoints.dynamodb, tableName: stack.tableName, stateDir: stack.stateDir });
  }

  // Summary.
  const c = await stack.counters();
  const stored = stack.trace.storedEvents;
  const pathCheck = retentionPathBeforeFollowUp ?? (await stack.verifyRetentionPath());
  const busRejected = [...replayResult.entryErrors].reduce((n, [, v]) => n + v, 0) + [...replayResult.requestErrors].reduce((n, [, v]) => n + v, 0);
  const list = (m: Map<string, number> | Record<string, number>) =>
    (m instanceof Map ? [...m] : Object.entries(m)).map(([k, v]) => `${k} ${fmt(v)}`).join('; ') || 'none';

  out('\nSummary');
  out(`  history backfilled      ${fmt(backfill.rowsRead)} rows from ${backfill.files} file(s) → ${fmt(backfill.eventsStored)} events stored, ${fmt(backfill.rowsRejected)} rows rejected, ${fmt(backfill.customersWritten)} customer writes, ${backfill.failedBatches ? `${fmt(backfill.failedBatches)} failed batches` : 'no failed batch'} (${secs(backfill.durationMs)}; fires no trigger)`);
  out(`  events published        ${fmt(replayResult.sent)} (accepted by the bus ${fmt(replayResult.accepted)}, rejected by the bus ${fmt(busRejected)})`);
  if (busRejected) out(`    bus rejections        ${list(new Map([...replayResult.entryErrors, ...replayResult.requestErrors]))}`);
  if (c.bus.toDefaultBus) out(`  ! ${fmt(c.bus.toDefaultBus)} events went to the default bus: set EventBusName (${stack.busName}); as in AWS, the default bus has none of the stack's rules`);
  const own = stack.trace.stackRecordedEvents;
  out(
    `  events ingested         ${fmt(stored)} stored (EVT# items inserted by the backfill and ingest, counted on the table stream${own ? `; ${fmt(own)} of them recorded by the stack itself: consent changes of its double opt-in requests and pages, exit-survey answers` : ''})${expectedUnique !== undefined ? `; ${fmt(expectedUnique)} unique valid events were generated` : ''}`,
  );
  out(`  rejected by ingest      ${fmt(c.rejected.count)}${c.rejected.count ? ` (${list(c.rejected.byReason)}) → ${path.join(stack.stateDir, `${REJECTED_QUEUE}.jsonl`)}` : ''}`);
  out(`  triggers fired          ${fmt(c.triggersFired)} ChurnTriggerFired on the bus`);
  const saved = await stack.saveEmails();
  out(`  emails sent             ${fmt(c.emailsSent)} → ${saved.dir}/ (each as <messageId>.eml and .html; index.jsonl names customer and campaign)${args.keepRunning ? `; inbox ${stack.endpoints.sesInbox}` : ''}`);
  out(`  emails not sent         ${fmt(c.emailsSkipped.count)} skipped${c.emailsSkipped.count ? ` (${list(c.emailsSkipped.byReason)})` : ''}`);
  const undecided = Object.values(c.triggersWithoutEmailDecision).reduce((a, b) => a + b, 0);
  if (undecided) out(`                          ${fmt(undecided)} triggers without an email decision, by action: ${list(c.triggersWithoutEmailDecision)} (every action but none has an email campaign)`);
  out(`    one customer          npx clm customer <id> --endpoint ${args.keepRunning ? stack.endpoints.dynamodb : '<DynamoDB Local>'}   (profile, triggers, send ledger with reasons${args.keepRunning ? '' : '; needs --keep-running: the table is in memory'})`);
  const otherEmitted = Object.entries(c.emitted).filter(([k]) => k !== 'ChurnTriggerFired');
  if (otherEmitted.length) out(`  other emitted events    ${otherEmitted.map(([k, v]) => `${k} ${fmt(v)}`).join('; ')}`);
  const dl = Object.entries(c.deadLetters).filter(([, v]) => v > 0);
  out(`  dead letters            ${dl.length ? dl.map(([k, v]) => `${k} ${fmt(v)} → ${path.join(stack.stateDir, `${k}.jsonl`)}`).join('; ') : 'none'}`);
  for (const e of c.handlerErrors) out(`  handler errors          ${e.function}: ${fmt(e.count)} (e.g. ${e.samples[0]})`);
  for (const [id, s] of Object.entries(c.consumers)) out(`  ${(id + " ").padEnd(26)}${fmt(s.invocations)} invocations, ${fmt(s.succeeded)} messages ok, ${fmt(s.failedReceives)} failed receives`);
  for (const [id, s] of Object.entries(c.streams)) out(`  ${(id + " ").padEnd(26)}${fmt(s.recordsRead)} stream records read from ${s.shards} shard(s), ${fmt(s.recordsMatched)} matched the filter, ${fmt(s.invocations)} invocations`);
  const st = pathCheck.steps;
  out(
    `  retention path          ${pathCheck.ok ? 'OK' : 'FAILED'}: ${fmt(st.billingComplaints)} billing complaints from the last ${triggerConfig.maxEventAgeDays} days (older history fires nothing) → ${fmt(st.stored)} stored → ${fmt(st.streamed)} read from the stream → ${fmt(st.triggered)} ChurnTriggerFired → ${fmt(st.toCampaigns)} to campaigns → ${fmt(st.emailed)} emailed`,
  );
  const ex = pathCheck.expected;
  out(
    `    expected              ${fmt(ex.triggered)} ChurnTriggerFired → ${fmt(ex.emailed)} emailed by the pure pipeline on the same events; ${pathCheck.mismatchCount ? `${fmt(pathCheck.mismatchCount)} differ` : 'no difference'}${pathCheck.orderDependent ? ` (${fmt(pathCheck.orderDependent)} decided in another order: cooldown, weekly cap or collective trigger)` : ''}`,
  );
  for (const m of pathCheck.mismatches) out(`    differs               ${JSON.stringify(m)}`);
  if (pathCheck.example) out(`    e.g.                  ${JSON.stringify(pathCheck.example)}`);
  if (args.nights) out(`  report                  ${report ? `${report.html} (and report.json, the lookalike export beside it)\n    verdict               ${report.verdict}` : 'none: no night stored a report aggregate'}`);
  out(`  took                    ${secs(realNow() - started)}`);
  if (args.figuresFile || args.summaryJsonFile) {
    const figures = await runFigures(stack);
    if (args.figuresFile) writeFileSync(args.figuresFile, `${JSON.stringify(figures, null, 2)}\n`);
    if (args.summaryJsonFile) {
      const summary: RunSummary = { backfill, eventsPublished: replayResult.sent, eventsAcceptedByBus: replayResult.accepted, eventsRejectedByBus: busRejected, ...figures, nights };
      writeFileSync(args.summaryJsonFile, `${JSON.stringify(summary, null, 2)}\n`);
    }
  }

  const ok = (pathCheck.ok || isImport) && backfill.failedBatches === 0;
  if (!pathCheck.ok && isImport) out('  (the imported data did not exercise the retention path; not an error for --import)');

  if (args.keepRunning) {
    keepRunningPhase = true;
    out('\nEndpoints');
    printEndpoints();
    out(`  rejected events    ${stack.endpoints.rejectedQueueUrl}   (inspect: ${stack.endpoints.bus}/queues/${REJECTED_QUEUE})`);
    out(`  publish:           aws events put-events --endpoint-url ${stack.endpoints.bus} --region ${LOCAL_REGION} --entries file://entries.json   (each entry with "EventBusName": "${stack.busName}")`);
    out(`\nReady: the local stack is running. Press Ctrl-C to stop.`);
    await new Promise(() => {});
  }
  stopping = true;
  await stack.stop();
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`local stack failed: ${(e as Error)?.stack ?? e}\n`);
    process.exit(1);
  },
);
