/**
 * Sends per second through the local sending path at an account's maximum send rate:
 *   npm run bench:send [seconds per limit]   (default 20)
 *
 * For each limit (14/s, SES's usual starting rate, and 500/s) the stack's own sizing
 * (infra/send-rate.ts `planSendRate`) gives the number of concurrent invocations and each one's
 * rate; that many invocations run at once, each with its own pacer
 * (functions/commons/clients.ts `sendPacer`, p-throttle weighted by recipients) and the real
 * batch path (shared/campaigns/send-batch.ts: guardrails, ledger, templates, SendBulkEmail)
 * against the SES v2 emulator (aws-ses-v2-local). The ledger is the in-memory store: DynamoDB
 * Local's single-item writes (about 720/s here, /work/shared/FACTS.md) would measure DynamoDB
 * Local, not the send path; in AWS the table scales on demand.
 *
 * Measured: the rate over the whole seconds from the first call (recipients whose calls started
 * in them ÷ seconds), and the most recipients whose calls started within any one second (a
 * sliding window): the bound SES enforces. The rate must be within 5% of the limit, and neither
 * above it.
 */
import os from 'node:os';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SesBulkMailer } from '../shared/adapters/ses-mailer.ts';
import { sendBatch } from '../shared/campaigns/send-batch.ts';
import type { CampaignRequest } from '../shared/campaigns/requests.ts';
import { applyEvent, emptyProfile } from '../shared/customers/profile.ts';
import { validateInbound } from '../shared/events/validate.ts';
import { InMemoryCustomerStore } from '../shared/pipeline/in-memory-ports.ts';
import type { BulkEntry, Mailer } from '../shared/ports.ts';
import { planSendRate } from '../infra/send-rate.ts';
import { sendPacer } from '../functions/commons/clients.ts';
import { functionSpecs, subscriptions, type RuleSubscription } from '../shared/wiring.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startSesLocal } from '../local/services.ts';

const seconds = Number(process.argv[2] ?? 20);
const limits = [14, 500];
const sender = subscriptions.find((s): s is RuleSubscription => s.kind === 'rule' && functionSpecs[s.function].access.sendEmail === true)!;

const event = (type: string, detail: Record<string, unknown>) => {
  const r = validateInbound({ source: 'bench', 'detail-type': type, detail: { eventId: `${type}-${detail.customerId}`, occurredAt: '2026-10-01T00:00:00Z', ...detail } });
  if (!r.ok) throw new Error(r.reason);
  return r.event;
};

async function run(limit: number, ses: SESv2Client) {
  const plan = planSendRate(limit, { batchSize: sender.batchSize, timeoutSeconds: functionSpecs[sender.function].timeoutSeconds });
  const perWorker = Math.ceil((plan.sendsPerSecondPerInvocation * seconds) / 1) + 1;
  const now = new Date('2026-11-02T12:00:00.000Z');
  const store = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
  const workers: CampaignRequest[][] = [];
  for (let w = 0; w < plan.maxConcurrency; w++) {
    const requests: CampaignRequest[] = [];
    for (let i = 0; i < perWorker; i++) {
      const customerId = `L${limit}-W${w}-C${i}`;
      await store.recordEvents(customerId, [
        event('CustomerProfileUpdated', { customerId, email: `${customerId.toLowerCase()}@example.com`, firstName: 'Ada' }),
        event('ConsentChanged', { customerId, channel: 'email', purpose: 'marketing', granted: true }),
      ], now);
      requests.push({ requestId: 'bench', customerId, campaign: 'reward', source: 'next-best-action', rule: '' });
    }
    workers.push(requests);
  }
  const starts: { at: number; n: number }[] = [];
  const noSingle: Mailer = { send: async () => Promise.reject(new Error('bulk only')) };
  const policy = { controlGroupPercent: 0, controlGroupExperiment: 'v1', frequencyCapPerWeek: 2, cooldownDays: {}, holdoutPercent: 0 };
  // Every invocation plans and claims its batch first; the sends start together (a barrier at the first pace),
  // so the measured window holds sending only.
  let arrived = 0;
  let release!: () => void;
  const allReady = new Promise<void>((r) => (release = r));
  const t0 = performance.now();
  const outcomes = await Promise.all(
    workers.map(async (requests) => {
      const paced = sendPacer(plan.sendsPerSecondPerInvocation);
      let first = true;
      const pacer = {
        limit: paced.limit,
        pace: async (n: number) => {
          if (first) {
            first = false;
            if (++arrived === workers.length) release();
            await allReady;
          }
          await paced.pace(n);
        },
      };
      const bulk = new SesBulkMailer(ses, { from: 'news@example.com', configurationSet: 'bench', maxEntries: pacer.limit });
      const timed = {
        maxEntries: bulk.maxEntries,
        sendBulk: (entries: readonly BulkEntry[]) => {
          starts.push({ at: performance.now(), n: entries.length });
          return bulk.sendBulk(entries);
        },
      };
      return sendBatch(requests, {
        store, mailer: noSingle, publisher: { publish: async () => {} }, now: () => now,
        links: { unsubscribeBaseUrl: 'https://example.com/u', helpBaseUrl: 'https://example.com/learn' },
        policy, bulkMailer: timed, pace: pacer.pace,
      });
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const sent = outcomes.flat().filter((o) => o.outcome === 'sent').length;
  starts.sort((a, b) => a.at - b.at);
  // Over the whole seconds from the first call: recipients whose calls started in them ÷ seconds.
  const whole = Math.floor((starts.at(-1)!.at - starts[0]!.at) / 1000);
  const rate = starts.filter((s) => s.at < starts[0]!.at + whole * 1000).reduce((n, s) => n + s.n, 0) / whole;
  // The most recipients whose calls started within one second ([t, t + 1 s) from each start).
  let peak = 0;
  for (let i = 0, j = 0, inWindow = 0; i < starts.length; i++) {
    while (j < starts.length && starts[j]!.at < starts[i]!.at + 1000) inWindow += starts[j++]!.n;
    peak = Math.max(peak, inWindow);
    inWindow -= starts[i]!.n;
  }
  return { limit, invocations: plan.maxConcurrency, perInvocation: plan.sendsPerSecondPerInvocation, calls: starts.length, sent, wall, rate, peak };
}

const ses = await startSesLocal();
const client = new SESv2Client({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
try {
  console.log(`bench:send — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, about ${seconds} s per limit`);
  console.log('| limit (/s) | invocations × rate | SendBulkEmail calls | sent | measured rate (/s) | of the limit | peak in any 1 s | within 5%, never above |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|:---:|');
  let ok = true;
  for (const limit of limits) {
    const r = await run(limit, client);
    const good = r.rate <= limit && r.rate >= 0.95 * limit && r.peak <= limit;
    ok &&= good;
    console.log(
      `| ${limit} | ${r.invocations} × ${r.perInvocation} | ${r.calls} | ${r.sent} | ${r.rate.toFixed(2)} | ${((100 * r.rate) / limit).toFixed(1)}% | ${r.peak} | ${good ? 'yes' : 'NO'} |`,
    );
    await fetch(`${ses.endpoint}/clear-store`, { method: 'POST' });
  }
  if (!ok) process.exitCode = 1;
} finally {
  client.destroy();
  await ses.stop();
}
