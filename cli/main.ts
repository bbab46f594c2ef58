/**
 * clm — customer lifetime value command line.
 *   clm fit       fit BG/NBD + Gamma-Gamma, print parameters as JSON
 *   clm score     fit and write per-customer scores as CSV
 *   clm fit-sbg   fit the sBG retention model to cohort survival counts or tenures
 *   clm validate  calibration/holdout check of the BG/NBD predictions
 *   clm customer  a customer's profile, triggers and send ledger (cli/customer.ts, dispatched in cli/clm.ts)
 *   clm report    the report of the latest nightly run (cli/report.ts, dispatched in cli/clm.ts)
 *   clm backfill  upload history files and backfill them (cli/backfill.ts, dispatched in cli/clm.ts)
 *   clm consent   a customer's consent ledger for an auditor (cli/consent.ts, dispatched in cli/clm.ts)
 *   clm erase     erase a customer (cli/erase.ts, dispatched in cli/clm.ts)
 *   clm winback-report  winback rates and leaving reasons as JSON (cli/winback-report.ts, dispatched in cli/clm.ts)
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { parseArgs } from 'node:util';
import {
  ConvergenceError,
  DataError,
  PERIODS_PER_MONTH,
  type BgNbdFit,
  type GammaGammaFit,
  type Period,
  fitBgNbd,
  fitGammaGamma,
  fitSbgCohort,
  fitSbgTenures,
  formatHoldoutTable,
  holdoutComparison,
  parseDay,
  prepareRfm,
  type RfmTable,
  sbgDerl,
  sbgRetentionRates,
  sbgSurvivalCurve,
  scoreCustomers,
  summarizeTransactions,
} from '../shared/clv/index.ts';
import { TextColumn } from '../shared/csv.ts';
import { CsvWriter } from './csv-writer.ts';
import { CliError, parseNumberList, readSummary, readTenures, readTransactions, type BadRows } from './io.ts';
import { Progress } from './progress.ts';

export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** bytes to stdout, written before it returns (large outputs); without it they go to `stdout` as text */
  stdoutBytes?: (b: Uint8Array) => void;
}

const defaultIo: Io = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdoutBytes: (b) => writeAll(1, b, 'stdout'),
};

const HELP = `clm — customer lifetime value and churn models (BG/NBD, Gamma-Gamma, sBG)

Usage:
  clm fit      (--input transactions.csv --calibration-end YYYY-MM-DD | --summary summary.csv) [--period week|day]
  clm score    (same inputs) [--horizon MONTHS] [--purchase-horizon PERIODS] [--discount-rate R] [--margin M] [--churn-horizon PERIODS] [--output scores.csv]
  clm fit-sbg  (--survivors N0,N1,N2,... | --tenures tenures.csv) [--periods N] [--discount-rate R]
  clm validate --input transactions.csv --calibration-end YYYY-MM-DD --holdout-end YYYY-MM-DD [--period week|day] [--json]
  clm customer <id> [--endpoint URL] [--table NAME] [--region R]   a customer's profile, triggers and send ledger
  clm report   [--out DIR] [--endpoint URL] [--table NAME] [--part FILE] [--cost-per-contact N]   the nightly report (HTML, JSON, lookalike export)
  clm backfill upload <dir> [--bucket B] [--state-machine ARN] [--wait]   upload history files and backfill them
  clm consent <id> [--endpoint URL] [--table NAME] [--region R] [--json]   a customer's consent history (for an auditor)
  clm erase <id> --requested-by WHO --yes [--endpoint URL] [--table NAME]   erase a customer (right to be forgotten)
  clm winback-report --from YYYY-MM [--to YYYY-MM] [--endpoint URL] [--table NAME]   winback rate by reason and offer, reasons by month (JSON)
  clm <command> --help

Inputs:
  transactions CSV  header customer_id,date,amount (dates YYYY-MM-DD or YYYYMMDD; extra columns ignored)
  summary CSV       header customer_id,frequency,recency,T,monetary_value (time in periods)
  tenures CSV       header customer_id,periods,churned (churned: 1/0 or true/false)

Common options:
  --skip-bad-rows   skip and count invalid rows instead of failing on the first one
  --quiet           no progress messages on stderr
`;

const COMMAND_HELP: Record<string, string> = {
  fit: `clm fit — fit BG/NBD and Gamma-Gamma; prints JSON on stdout.

  --input FILE            transaction CSV (customer_id,date,amount)
  --calibration-end DATE  last day of the calibration period (with --input)
  --summary FILE          summary CSV (customer_id,frequency,recency,T,monetary_value)
  --period week|day       time unit for --input (default week)
  --skip-bad-rows         skip and count bad rows
`,
  score: `clm score — fit, then write one row per customer:
  customer_id,frequency,recency,T,p_alive,expected_purchases,expected_spend,clv,churn_risk,value_tier

  (inputs as for clm fit)
  --horizon MONTHS        CLV horizon in months (default 12)
  --purchase-horizon P    horizon of expected_purchases in periods (lifetimes' t), e.g. 52
                          weeks (default: the CLV horizon in periods, 12 months = 52.18 weeks)
  --discount-rate R       monthly discount rate (default 0.01)
  --margin M              profit margin applied to spend (default 1)
  --churn-horizon P       churn risk = P(no purchase in the next P periods) (default 3 months)
  --output FILE           CSV output (default stdout)

  value_tier: lapsed if p_alive < 0.2, otherwise by CLV rank: top 10% top, next 20% high,
  next 30% medium, rest low.
`,
  'fit-sbg': `clm fit-sbg — fit the shifted-beta-geometric retention model; prints JSON.

  --survivors LIST        cohort survival counts, e.g. 1000,631,468,382,326,289,262,241
  --tenures FILE          individual tenures CSV (customer_id,periods,churned), right-censored
  --periods N             projection horizon in periods (default 12)
  --discount-rate R       per-period discount rate for DERL (default 0.1)
`,
  validate: `clm validate — fit on the calibration period, predict the holdout, compare.

  --input FILE            transaction CSV
  --calibration-end DATE  last day of calibration
  --holdout-end DATE      last day of the holdout
  --period week|day       time unit (default week)
  --json                  print the report as JSON instead of a table
`,
};

const OPTIONS = {
  input: { type: 'string' },
  summary: { type: 'string' },
  'calibration-end': { type: 'string' },
  'holdout-end': { type: 'string' },
  period: { type: 'string' },
  horizon: { type: 'string' },
  'purchase-horizon': { type: 'string' },
  'discount-rate': { type: 'string' },
  margin: { type: 'string' },
  'churn-horizon': { type: 'string' },
  output: { type: 'string' },
  survivors: { type: 'string' },
  tenures: { type: 'string' },
  periods: { type: 'string' },
  'skip-bad-rows': { type: 'boolean' },
  quiet: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean;
};

function num(v: string | undefined, name: string, def: number, check: (x: number) => boolean, rule: string): number {
  if (v === undefined) return def;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || !check(x)) throw new CliError(`--${name} must be ${rule} (got "${v}")`);
  return x;
}

function periodOf(v: Values): Period {
  const p = v.period ?? 'week';
  if (p !== 'week' && p !== 'day') throw new CliError(`--period must be week or day (got "${p}")`);
  return p;
}

function dateOpt(v: string | undefined, name: string): number {
  if (v === undefined) throw new CliError(`--${name} is required`);
  try {
    return parseDay(v);
  } catch {
    throw new CliError(`--${name} "${v}" is not a date (YYYY-MM-DD or YYYYMMDD)`);
  }
}

function reportBad(io: Io, bad: BadRows): void {
  if (bad.skipped > 0) {
    io.stderr(`clm: skipped ${bad.skipped} bad row${bad.skipped === 1 ? '' : 's'}:\n${bad.first.map((m) => `  ${m}\n`).join('')}${bad.skipped > bad.first.length ? '  …\n' : ''}`);
  }
}

interface LoadedData {
  customerId: TextColumn;
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  monetary: Float64Array | undefined;
  period: Period;
  source: Record<string, unknown>;
}

function loadData(v: Values, io: Io, progress: Progress): LoadedData {
  const skip = v['skip-bad-rows'] === true;
  if (v.input && v.summary) throw new CliError('give either --input or --summary, not both');
  if (v.summary) {
    progress.note(`reading ${v.summary}`);
    const s = readSummary(v.summary, skip);
    reportBad(io, s.bad);
    if (s.customerId.length === 0) throw new CliError(`${v.summary}: no customers`);
    return { ...s, period: periodOf(v), source: { summary: v.summary, customers: s.customerId.length, skippedRows: s.bad.skipped } };
  }
  if (!v.input) throw new CliError('--input (transactions) or --summary is required');
  const calEnd = dateOpt(v['calibration-end'], 'calibration-end');
  const period = periodOf(v);
  progress.note(`reading ${v.input}`);
  const tx = readTransactions(v.input, skip, progress);
  reportBad(io, tx.bad);
  if (tx.day.length > 1_000_000) progress.forceShow();
  progress.note(`summarising ${tx.day.length.toLocaleString('en-US')} transactions`);
  const s = summarizeTransactions(tx, { calibrationEnd: calEnd, period });
  if (s.customerId.length === 0) throw new CliError(`${v.input}: no customer made a first purchase on or before ${v['calibration-end']}`);
  return {
    customerId: TextColumn.from(s.customerId),
    frequency: s.frequency,
    recency: s.recency,
    T: s.T,
    monetary: s.monetary,
    period,
    source: {
      input: v.input,
      calibrationEnd: v['calibration-end'],
      period,
      transactions: tx.day.length,
      skippedRows: tx.bad.skipped,
      purchaseDays: s.purchaseDays,
      customers: s.customerId.length,
      customersAfterCalibration: s.customersAfterCalibration,
    },
  };
}

const round = (x: number, d = 6) => (Number.isFinite(x) ? Number(x.toPrecision(d + 1)) : null);

function bgJson(f: BgNbdFit) {
  return {
    r: f.r,
    alpha: f.alpha,
    a: f.a,
    b: f.b,
    logLikelihood: f.logLikelihood,
    standardErrors: { r: round(f.standardErrors.r), alpha: round(f.standardErrors.alpha), a: round(f.standardErrors.a), b: round(f.standardErrors.b) },
    converged: f.diagnostics.converged,
    iterations: f.diagnostics.iterations,
    customers: f.diagnostics.customers,
    distinctRows: f.diagnostics.distinctRows,
  };
}

function ggJson(g: GammaGammaFit) {
  return {
    p: g.p,
    q: g.q,
    gamma: g.gamma,
    logLikelihood: g.logLikelihood,
    standardErrors: { p: round(g.standardErrors.p), q: round(g.standardErrors.q), gamma: round(g.standardErrors.gamma) },
    converged: g.diagnostics.converged,
    repeatBuyers: g.diagnostics.repeatBuyers,
    frequencySpendCorrelation: g.frequencySpendCorrelation,
    warnings: g.warnings,
  };
}

function fitBoth(d: LoadedData, io: Io, progress: Progress): { bg: BgNbdFit; gg: GammaGammaFit | null; table: RfmTable } {
  if (d.customerId.length >= 200_000) progress.forceShow();
  progress.note(`fitting BG/NBD on ${d.customerId.length.toLocaleString('en-US')} customers`);
  const table = prepareRfm(d.frequency, d.recency, d.T);
  const bg = fitBgNbd(table);
  let gg: GammaGammaFit | null = null;
  if (d.monetary) {
    progress.note('fitting Gamma-Gamma');
    gg = fitGammaGamma(d.frequency, d.monetary);
    for (const w of gg.warnings) io.stderr(`clm: warning: ${w}\n`);
  } else io.stderr('clm: no monetary_value column: Gamma-Gamma not fitted\n');
  return { bg, gg, table };
}

function cmdFit(v: Values, io: Io, progress: Progress): number {
  const d = loadData(v, io, progress);
  const { bg, gg } = fitBoth(d, io, progress);
  io.stdout(`${JSON.stringify({ bgnbd: bgJson(bg), gammaGamma: gg ? ggJson(gg) : null, data: d.source }, null, 2)}\n`);
  progress.note('done');
  return 0;
}

function openOutput(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (e) {
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

const SCORE_HEADER = 'customer_id,frequency,recency,T,p_alive,expected_purchases,expected_spend,clv,churn_risk,value_tier\n';

function cmdScore(v: Values, io: Io, progress: Progress): number {
  const months = num(v.horizon, 'horizon', 12, (x) => Number.isInteger(x) && x >= 1, 'a whole number of months ≥ 1');
  const discountRate = num(v['discount-rate'], 'discount-rate', 0.01, (x) => x >= 0 && x < 1, 'a monthly rate in [0, 1)');
  const margin = num(v.margin, 'margin', 1, (x) => x >= 0, 'a number ≥ 0');
  const purchaseHorizon = v['purchase-horizon'] === undefined ? undefined : num(v['purchase-horizon'], 'purchase-horizon', 0, (x) => x > 0, 'a number of periods > 0');
  const d = loadData(v, io, progress);
  const ppm = PERIODS_PER_MONTH[d.period];
  const churnHorizon = num(v['churn-horizon'], 'churn-horizon', 3 * ppm, (x) => x > 0, 'a number of periods > 0');
  if (!d.monetary) throw new CliError('score needs monetary values: use --input, or a summary with a monetary_value column');
  const { bg, gg, table } = fitBoth(d, io, progress);
  progress.note('scoring');
  const s = scoreCustomers(bg, gg!, { frequency: d.frequency, recency: d.recency, T: d.T, monetary: d.monetary, table }, {
    months,
    discountRate,
    margin,
    periodsPerMonth: ppm,
    purchaseHorizon,
    churnHorizon,
  });
  progress.note('writing scores');
  const fd = v.output ? openOutput(v.output) : undefined;
  const text = new StringDecoder('utf8'); // a chunk may end inside a character
  const stdoutBytes = io.stdoutBytes ?? ((b: Uint8Array) => io.stdout(text.write(Buffer.from(b))));
  const out = new CsvWriter(fd === undefined ? stdoutBytes : (b) => writeAll(fd, b, v.output!));
  const tiers = new Map<string, Buffer>();
  out.raw(SCORE_HEADER);
  const ids = d.customerId;
  const decimals = [d.recency, d.T, s.pAlive, s.expectedPurchases, s.expectedSpend, s.clv, s.churnRisk];
  for (let i = 0; i < ids.length; i++) {
    out.field(ids, i);
    out.byte(44);
    out.number(d.frequency[i]);
    for (const col of decimals) {
      out.byte(44);
      out.decimal6(col[i]);
    }
    out.byte(44);
    const t = s.valueTier[i];
    let tb = tiers.get(t);
    if (!tb) tiers.set(t, (tb = Buffer.from(`${t}\n`)));
    out.bytes(tb);
  }
  out.flush();
  if (fd !== undefined) {
    closeSync(fd);
    let total = 0;
    for (const c of s.clv) total += c;
    io.stderr(
      `clm: wrote ${ids.length} customers to ${v.output} (BG/NBD r=${bg.r.toPrecision(4)} α=${bg.alpha.toPrecision(4)} a=${bg.a.toPrecision(4)} b=${bg.b.toPrecision(4)}; ` +
        `Gamma-Gamma p=${gg!.p.toPrecision(4)} q=${gg!.q.toPrecision(4)} γ=${gg!.gamma.toPrecision(4)}; total ${months}-month CLV ${total.toFixed(2)})\n`,
    );
  }
  progress.note('done');
  return 0;
}

/** Write all of b to fd before returning (waiting out EAGAIN on a non-blocking pipe). */
function writeAll(fd: number, b: Uint8Array, path: string): void {
  for (let off = 0; off < b.length; ) {
    try {
      off += writeSync(fd, b, off, b.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
    }
  }
}

function cmdFitSbg(v: Values, io: Io): number {
  const periods = num(v.periods, 'periods', 12, (x) => Number.isInteger(x) && x >= 1 && x <= 10_000, 'a whole number in 1..10000');
  const d = num(v['discount-rate'], 'discount-rate', 0.1, (x) => x > 0 && x < 1, 'a per-period rate in (0, 1)');
  let fit;
  if (v.survivors && v.tenures) throw new CliError('give either --survivors or --tenures, not both');
  if (v.survivors) fit = fitSbgCohort(parseNumberList(v.survivors, '--survivors'));
  else if (v.tenures) {
    const t = readTenures(v.tenures, v['skip-bad-rows'] === true);
    reportBad(io, t.bad);
    fit = fitSbgTenures(t.tenures);
  }
  else throw new CliError('--survivors or --tenures is required');
  const survival = sbgSurvivalCurve(fit, periods);
  const res: Record<string, unknown> = {
    alpha: fit.alpha,
    beta: fit.beta,
    logLikelihood: fit.logLikelihood,
    standardErrors: { alpha: round(fit.standardErrors.alpha), beta: round(fit.standardErrors.beta) },
    converged: fit.diagnostics.converged,
    customers: fit.diagnostics.customers,
    retention: survival.map((s) => round(s)),
    retentionRates: sbgRetentionRates(fit, periods).map((r) => round(r)),
  };
  if (v.survivors) {
    const sv = parseNumberList(v.survivors, '--survivors');
    res.projectedSurvivors = survival.map((s) => round(s * sv[0]));
  }
  // expected discounted payments: a new customer (first payment now, then renewals) and
  // DERL by tenure (renewals made) for the first periods
  res.discountRate = d;
  res.expectedDiscountedLifetimeNewCustomer = round(1 + sbgDerl(fit, 0, d) / (1 + d));
  res.derlByTenure = Array.from({ length: Math.min(periods, 12) + 1 }, (_, n) => round(sbgDerl(fit, n, d)));
  io.stdout(`${JSON.stringify(res, null, 2)}\n`);
  return 0;
}

function cmdValidate(v: Values, io: Io, progress: Progress): number {
  if (!v.input) throw new CliError('--input (transactions) is required');
  const calEnd = dateOpt(v['calibration-end'], 'calibration-end');
  const holdEnd = dateOpt(v['holdout-end'], 'holdout-end');
  if (holdEnd <= calEnd) throw new CliError('--holdout-end must be after --calibration-end');
  const period = periodOf(v);
  progress.note(`reading ${v.input}`);
  const tx = readTransactions(v.input, v['skip-bad-rows'] === true, progress);
  reportBad(io, tx.bad);
  const s = summarizeTransactions(tx, { calibrationEnd: calEnd, period, holdoutEnd: holdEnd });
  if (s.customerId.length === 0) throw new CliError('no customers in the calibration period');
  progress.note('fitting BG/NBD on the calibration period');
  const bg = fitBgNbd(prepareRfm(s.frequency, s.recency, s.T));
  progress.note('predicting the holdout');
  const rep = holdoutComparison(bg, { frequency: s.frequency, recency: s.recency, T: s.T, holdoutFrequency: s.holdoutFrequency! }, s.holdoutLength!);
  if (v.json) {
    const { predicted: _p, ...rest } = rep;
    void _p;
    io.stdout(`${JSON.stringify({ bgnbd: bgJson(bg), ...rest }, null, 2)}\n`);
  } else {
    io.stdout(`BG/NBD fitted on calibration (${period}s): r=${bg.r.toPrecision(4)} alpha=${bg.alpha.toPrecision(4)} a=${bg.a.toPrecision(4)} b=${bg.b.toPrecision(4)} LL=${bg.logLikelihood.toFixed(2)}\n`);
    io.stdout(`${formatHoldoutTable(rep)}\n`);
  }
  progress.note('done');
  return 0;
}

/** Run the CLI; returns the process exit code. */
export function main(argv: string[], io: Io = defaultIo): number {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.stdout(HELP);
    return command ? 0 : 1;
  }
  let values: Values;
  try {
    values = parseArgs({ args: rest, options: OPTIONS, allowPositionals: false, strict: true }).values as Values;
  } catch (e) {
    io.stderr(`clm: ${(e as Error).message}\n\n${COMMAND_HELP[command] ?? HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout(COMMAND_HELP[command] ?? HELP);
    return 0;
  }
  const progress = new Progress(io.stderr, 1000, values.quiet !== true);
  try {
    switch (command) {
      case 'fit':
        return cmdFit(values, io, progress);
      case 'score':
        return cmdScore(values, io, progress);
      case 'fit-sbg':
        return cmdFitSbg(values, io);
      case 'validate':
        return cmdValidate(values, io, progress);
      default:
        io.stderr(`clm: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof CliError || e instanceof DataError || e instanceof ConvergenceError) {
      io.stderr(`clm: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
