/**
 * The pages handler counts each refused link by why (`PageLinkRefused_<reason>`), the metric the
 * stack alarms on for links signed with a key the pages no longer hold. The key ring comes from
 * Secrets Manager (aws-sdk-client-mock); a link's page is served before any table call.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pageLinkRefusedMetric } from '../../../functions/commons/metric-names.ts';
import { signToken } from '../../../shared/pages/tokens.ts';
import { ENV } from '../../../shared/wiring.ts';
import { capturePowertoolsOutput, metricSum } from '../../support/powertools-output.ts';

// The metrics are what is tested here: enable them (vitest.config.ts disables them) before powertools.ts is loaded.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

const context = { functionName: 'pages', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
const current = { id: 'k2', secret: new TextEncoder().encode('c'.repeat(40)) };
const retiredAndRemoved = { id: 'k1', secret: new TextEncoder().encode('r'.repeat(40)) };
const secrets = mockClient(SecretsManagerClient);
let handler: (event: unknown, context: Context) => Promise<{ statusCode: number }>;

const output = capturePowertoolsOutput();

beforeAll(async () => {
  Object.assign(process.env, { AWS_REGION: 'eu-west-1', [ENV.tableName]: 't', [ENV.pageKeysSecret]: 'page-keys' });
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ kid: current.id, key: 'c'.repeat(40) }) });
  handler = (await import('../../../functions/pages/handler.ts')).handler as never;
});
afterAll(() => secrets.restore());

/** A function URL request (payload format 2.0) for a path. */
const request = (path: string) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: path,
  rawQueryString: '',
  headers: { host: 'pages.example.com' },
  isBase64Encoded: false,
  requestContext: {
    accountId: 'anonymous',
    apiId: 'abc',
    domainName: 'pages.example.com',
    domainPrefix: 'pages',
    http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'test' },
    requestId: 'r-1',
    routeKey: '$default',
    stage: '$default',
    time: '01/Dec/2026:12:00:00 +0000',
    timeEpoch: 1_796_126_400_000,
  },
});

const metric = (name: string) => metricSum(output.lines(), name);

describe('pages: refused links are counted by why', () => {
  it('a link signed with a key no longer in the ring counts as PageLinkRefused_unknown-key, a forged one as bad-signature', async () => {
    const now = new Date();
    const oldLink = signToken({ current: retiredAndRemoved, previous: [] }, { purpose: 'unsubscribe', customerId: 'C1', now });
    const good = signToken({ current, previous: [] }, { purpose: 'unsubscribe', customerId: 'C1', now });
    const forged = `${good.slice(0, -4)}AAAA`;
    expect((await handler(request(`/u/${oldLink}`), context)).statusCode).toBe(404);
    expect((await handler(request(`/u/${forged}`), context)).statusCode).toBe(404);
    expect(metric(pageLinkRefusedMetric('unknown-key'))).toBe(1);
    expect(metric(pageLinkRefusedMetric('bad-signature'))).toBe(1);
    // Nothing of the token in the logs.
    expect(JSON.stringify(output.lines())).not.toContain(oldLink.split('.')[2]);
  });

  it('a link that verifies counts no refusal', async () => {
    const good = signToken({ current, previous: [] }, { purpose: 'learn', customerId: 'C1', now: new Date() });
    await handler(request(`/learn/${good}`), context).catch(() => undefined);
    expect(metric(pageLinkRefusedMetric('unknown-key')) + metric(pageLinkRefusedMetric('bad-signature'))).toBe(0);
  });
});
