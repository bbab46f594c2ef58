/**
 * AWS SDK clients and the adapters on top of them, created once per container.
 * Endpoints come from the SDK's own settings (AWS_ENDPOINT_URL_<SERVICE>), so the
 * same code talks to AWS in Lambda and to the embedded services locally.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pThrottle from 'p-throttle';
import { DynamoBackfillStore } from '../../shared/adapters/dynamodb-backfill-store.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { DynamoScoringStore } from '../../shared/adapters/dynamodb-scoring-store.ts';
import { DynamoReportStore } from '../../shared/adapters/dynamodb-report-store.ts';
import { S3ReportSink } from '../../shared/adapters/s3-report-sink.ts';
import { S3Client } from '@aws-sdk/client-s3';
import type { ReportSettings } from '../../shared/report/figures.ts';
import { parseReportSettings } from '../../shared/report/settings.ts';
import { DynamoRejectionLedger } from '../../shared/adapters/dynamodb-rejection-ledger.ts';
import { DynamoConsentLedger } from '../../shared/adapters/dynamodb-consent-ledger.ts';
import { DynamoPrivacyStore } from '../../shared/adapters/dynamodb-privacy-store.ts';
import { DynamoWinbackStore } from '../../shared/adapters/dynamodb-winback-store.ts';
import type { ConsentPolicy } from '../../shared/consent/ledger.ts';
import { defaultWinbackPolicy, type WinbackPolicy } from '../../shared/winback/sequence.ts';
import { DynamoTimerStore } from '../../shared/adapters/dynamodb-timer-store.ts';
import { DynamoOutreachDesk } from '../../shared/adapters/dynamodb-outreach-desk.ts';
import { type ScoringConfig, parseScoringConfig } from '../../shared/scoring/config.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { EventBridgePublisher } from '../../shared/adapters/eventbridge-publisher.ts';
import { startPacer } from '../../shared/campaigns/pacer.ts';
import { cachedFigures, parseBreakerPolicy, type BreakerPolicy } from '../../shared/campaigns/circuit-breaker.ts';
import type { DeliverabilityCounter } from '../../shared/campaigns/send-campaign.ts';
import { DynamoDeliverability } from '../../shared/adapters/dynamodb-deliverability.ts';
import { SES_BULK_MAX_ENTRIES, SesBulkMailer, SesMailer } from '../../shared/adapters/ses-mailer.ts';
import { SqsRejectedEventSink } from '../../shared/adapters/sqs-rejected-sink.ts';
import { SecretsManagerPageKeys } from '../../shared/adapters/secrets-manager-page-keys.ts';
import { SecretsManagerPrivacySalt } from '../../shared/adapters/secrets-manager-privacy-salt.ts';
import type { OutreachScope } from '../../shared/privacy/outreach-residue.ts';
import type { BulkMailer, Mailer } from '../../shared/ports.ts';
import { ENV } from '../../shared/wiring.ts';
import { defaults } from '../../shared/defaults.ts';
import { tracer } from './powertools.ts';

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

const numberEnv = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`environment variable ${name} must be a non-negative number`);
  return n;
};

/** An environment variable holding JSON settings, parsed; unset or empty: `{}` (the defaults). */
function jsonEnv(name: string): unknown {
  const raw = process.env[name]?.trim();
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    throw new Error(`environment variable ${name} is not valid JSON`);
  }
}

/** The deliverability circuit breaker's policy: the defaults with what CLM_CIRCUIT_BREAKER (JSON) sets. */
const breakerPolicy = (): BreakerPolicy => {
  const parsed = parseBreakerPolicy(jsonEnv(ENV.circuitBreaker), defaults.circuitBreaker);
  if (!parsed.ok) throw new Error(`invalid ${ENV.circuitBreaker}: ${parsed.issues.join('; ')}`);
  return parsed.policy;
};

export const settings = {
  breakerPolicy,
  eventRetentionDays: () => numberEnv(ENV.eventRetentionDays, defaults.eventRetentionDays),
  controlGroupPercent: () => numberEnv(ENV.controlGroupPercent, defaults.controlGroupPercent),
  controlGroupExperiment: () => process.env[ENV.controlGroupExperiment]?.trim() || defaults.controlGroupExperiment,
  frequencyCapPerWeek: () => numberEnv(ENV.frequencyCapPerWeek, defaults.frequencyCapPerWeek),
  /** How long a winback grant lasts: read by ingest for the ledger's records and the profile fold alike. */
  consentPolicy: (): ConsentPolicy => ({ winbackPermissionMonths: numberEnv(ENV.winbackPermissionMonths, defaults.winbackPermissionMonths) }),
  /** The winback sequence's delays, high-value threshold and personal outreach (docs/consent.md). */
  winbackPolicy: (): WinbackPolicy => {
    const raw = process.env[ENV.winbackDelaysDays]?.trim();
    const delaysDays = raw ? raw.split(',').map(Number) : [...defaults.winbackDelaysDays];
    if (delaysDays.some((d, i) => !Number.isInteger(d) || d < 1 || (i > 0 && d <= delaysDays[i - 1]!))) {
      throw new Error(`environment variable ${ENV.winbackDelaysDays} must be increasing whole numbers of days, e.g. 14,60,180`);
    }
    const outreach = process.env[ENV.winbackPersonalOutreach]?.trim() || defaultWinbackPolicy.personalOutreach;
    if (outreach !== 'instead' && outreach !== 'before' && outreach !== 'off') throw new Error(`environment variable ${ENV.winbackPersonalOutreach} must be instead, before or off`);
    return { delaysDays, highValueMinClv: numberEnv(ENV.winbackHighValueMinClv, defaults.winbackHighValueMinClv), personalOutreach: outreach };
  },
};

/**
 * Client options. `CLM_LOCAL_MAX_SOCKETS` is set by the local stack only (local/local-stack.ts): there
 * every concurrent invocation shares one client, so it needs more than the SDK's 50 sockets per
 * client; in Lambda (unset) one invocation at a time uses a client and the SDK default holds.
 */
export const clientOptions = () => {
  const maxSockets = numberEnv('CLM_LOCAL_MAX_SOCKETS', 0);
  return maxSockets > 0 ? { requestHandler: { httpAgent: { maxSockets }, httpsAgent: { maxSockets } } } : {};
};

/** Memoises a factory: the adapter is built on first use, after the environment is read, then reused. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= make());
}

export const customerStore = once(
  () =>
    new DynamoCustomerStore(tracer.captureAWSv3Client(new DynamoDBClient(clientOptions())), {
      tableName: requireEnv(ENV.tableName),
      eventRetentionDays: settings.eventRetentionDays(),
      profiles: { empty: emptyProfile, apply: (p, e) => applyEvent(p, e, settings.consentPolicy()) },
    }),
);

export const backfillStore = once(
  () =>
    new DynamoBackfillStore(tracer.captureAWSv3Client(new DynamoDBClient(clientOptions())), {
      tableName: requireEnv(ENV.tableName),
      eventRetentionDays: settings.eventRetentionDays(),
      profiles: { empty: emptyProfile, apply: applyEvent },
    }),
);
const timerClient = once(() => tracer.captureAWSv3Client(new DynamoDBClient(clientOptions())));
export const timerStore = once(() => new DynamoTimerStore(timerClient(), { tableName: requireEnv(ENV.tableName) }));
/** A timer store that reads further back than the default (an operator's sweep after an outage). */
export const timerStoreLookingBack = (lookbackHours: number) => new DynamoTimerStore(timerClient(), { tableName: requireEnv(ENV.tableName), lookbackHours });

/** The customers' nightly scores and the daily outreach capacity (routing of fired triggers). */
export const outreachDesk = once(() => new DynamoOutreachDesk(timerClient(), { tableName: requireEnv(ENV.tableName) }));

export const scoringStore = once(
  () => new DynamoScoringStore(tracer.captureAWSv3Client(new DynamoDBClient({})), { tableName: requireEnv(ENV.tableName), profiles: { empty: emptyProfile } }),
);

export const reportStore = once(() => new DynamoReportStore(tracer.captureAWSv3Client(new DynamoDBClient({})), { tableName: requireEnv(ENV.tableName) }));

export const reportSink = once(() => new S3ReportSink(tracer.captureAWSv3Client(new S3Client(clientOptions())), requireEnv(ENV.reportBucket)));

/** The report's settings from CLM_REPORT_SETTINGS (JSON), validated; unset means the defaults. */
export const reportSettings = once((): ReportSettings => {
  const parsed = parseReportSettings(jsonEnv(ENV.reportSettings));
  if (!parsed.ok) throw new Error(`invalid ${ENV.reportSettings}: ${parsed.issues.join('; ')}`);
  return parsed.settings;
});

/** The nightly scoring settings from CLM_SCORING_CONFIG (JSON), validated; unset means the defaults. */
export const scoringConfig = once((): ScoringConfig => {
  const parsed = parseScoringConfig(jsonEnv(ENV.scoringConfig));
  if (!parsed.ok) throw new Error(`environment variable ${ENV.scoringConfig} is invalid: ${parsed.issues.join('; ')}`);
  return parsed.config;
});

export const eventPublisher = once(
  () => new EventBridgePublisher(tracer.captureAWSv3Client(new EventBridgeClient(clientOptions())), requireEnv(ENV.busName)),
);

/**
 * Sends at most `sendsPerSecond` emails a second through `mailer`, one at a
 * time at even intervals; the rest wait their turn. The stack sets the rate
 * per invocation so that all concurrent invocations together stay within the
 * SES maximum send rate (infra/send-rate.ts).
 */
export function pacedMailer(mailer: Mailer, sendsPerSecond: number): Mailer {
  if (!(sendsPerSecond > 0)) throw new Error(`sends per second must be positive, got ${sendsPerSecond}`);
  const send = pThrottle({ limit: 1, interval: Math.ceil(1000 / sendsPerSecond) })((input: Parameters<Mailer['send']>[0]) => mailer.send(input));
  return { send: (input) => send(input) };
}

/**
 * SES v2 client with adaptive retries: on throttling the SDK slows its own
 * request rate (client-side rate limiting) besides backing off, so a burst
 * beyond the send rate waits instead of failing into the dead-letter queue.
 */
export const sesClient = once(() => tracer.captureAWSv3Client(new SESv2Client({ ...clientOptions(), retryMode: 'adaptive' })));

export const mailer = once((): Mailer => {
  const ses = new SesMailer(sesClient(), {
    from: requireEnv(ENV.senderAddress),
    configurationSet: process.env[ENV.configurationSet],
  });
  // Unset (the local stack, tests): no pacing.
  const rate = process.env[ENV.sesSendsPerSecond];
  return rate ? pacedMailer(ses, numberEnv(ENV.sesSendsPerSecond, 0)) : ses;
});

/**
 * Waits until `recipients` more emails may go: an invocation's bulk calls start at most
 * `sendsPerSecond` recipients a second apart (shared/campaigns/pacer.ts: by the actual start of the
 * previous call, so a late timer never lets the next one catch up). A call never holds more than
 * `limit` recipients (a second's worth), so no call exceeds the rate on its own.
 */
export function sendPacer(sendsPerSecond: number): { limit: number; pace: (recipients: number) => Promise<void> } {
  const pacer = startPacer(sendsPerSecond);
  const limit = Math.max(1, Math.min(SES_BULK_MAX_ENTRIES, Math.floor(sendsPerSecond)));
  return { limit, pace: (recipients) => pacer.pace(recipients) };
}

/** The invocation's bulk pacer; unset rate (the local stack, tests): no pacing. */
export const bulkPacer = once(() => {
  const rate = numberEnv(ENV.sesSendsPerSecond, 0);
  return rate > 0 ? sendPacer(rate) : undefined;
});

/** SendBulkEmail through the same client; entries per call at most one second of the invocation's rate. */
export const bulkMailer = once(
  (): BulkMailer =>
    new SesBulkMailer(sesClient(), {
      from: requireEnv(ENV.senderAddress),
      configurationSet: process.env[ENV.configurationSet],
      maxEntries: bulkPacer()?.limit ?? SES_BULK_MAX_ENTRIES,
    }),
);

export const rejectedEventSink = once(
  () => new SqsRejectedEventSink(tracer.captureAWSv3Client(new SQSClient(clientOptions())), requireEnv(ENV.rejectedQueueUrl)),
);

/** Which rejected events are already on the rejected-events queue (ingest sends each once). */
export const consentLedger = once(
  () => new DynamoConsentLedger(tracer.captureAWSv3Client(new DynamoDBClient(clientOptions())), { tableName: requireEnv(ENV.tableName) }),
);

export const winbackStore = once(
  () => new DynamoWinbackStore(tracer.captureAWSv3Client(new DynamoDBClient(clientOptions())), { tableName: requireEnv(ENV.tableName) }),
);

/** Where erasure looks for a customer's outreach assignments: the scoring config's experiment and churn horizon. */
export const erasureScope = once((): { outreach: OutreachScope } => {
  const config = scoringConfig();
  return { outreach: { experimentIds: [config.outreach.experimentId], horizonMonths: config.churn.horizonMonths } };
});

/** The erasure salt, read from Secrets Manager once per container (never logged). */
export const privacySalt = once(
  () => new SecretsManagerPrivacySalt(tracer.captureAWSv3Client(new SecretsManagerClient(clientOptions())), requireEnv(ENV.privacySaltSecret)),
);

export const privacyStore = once(
  () =>
    new DynamoPrivacyStore(tracer.captureAWSv3Client(new DynamoDBClient(clientOptions())), {
      tableName: requireEnv(ENV.tableName),
      salt: () => privacySalt().salt(),
    }),
);

export const rejectionLedger = once(
  () =>
    new DynamoRejectionLedger(tracer.captureAWSv3Client(new DynamoDBClient(clientOptions())), {
      tableName: requireEnv(ENV.tableName),
      retentionDays: defaults.rejectionRetentionDays,
    }),
);

/** The page signing keys (tokens of the unsubscribe, help and exit-survey links), read from Secrets Manager and cached per container. */
export const pageKeys = once(
  () => new SecretsManagerPageKeys(tracer.captureAWSv3Client(new SecretsManagerClient(clientOptions())), requireEnv(ENV.pageKeysSecret)),
);

/** The deliverability circuit breaker's counts (hour buckets in the table): counted by email-feedback, read by campaigns. */
export const deliverabilityTally = once(
  () => new DynamoDeliverability(tracer.captureAWSv3Client(new DynamoDBClient(clientOptions())), { tableName: requireEnv(ENV.tableName) }),
);

/** How long the campaigns function keeps the breaker's window once read: it reacts within this much. */
export const BREAKER_READ_TTL_MS = 60_000;

/** The breaker's window as campaigns reads it: at most once a minute per container. */
export const deliverabilityCounter = once((): DeliverabilityCounter => {
  const tally = deliverabilityTally();
  return { figures: cachedFigures((now, hours) => tally.figures(now, hours), BREAKER_READ_TTL_MS) };
});
