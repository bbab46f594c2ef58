/**
 * The page signing keys as the functions read them: the Secrets Manager adapter with the real
 * SDK client against the local stack's GetSecretValue, and the key ring the local stack
 * generates per state directory. Error paths of the SDK call: aws-sdk-client-mock.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsJsonServer, type AwsJsonServer } from '../../local/aws-json-server.ts';
import { LocalBus } from '../../local/bus.ts';
import { PAGE_KEYS_FILE, ensureLocalPageKeys } from '../../local/page-keys.ts';
import { QueueRegistry } from '../../local/queues.ts';
import { SecretsManagerPageKeys } from '../../shared/adapters/secrets-manager-page-keys.ts';
import { parseKeyRing, signToken, verifyToken } from '../../shared/pages/tokens.ts';

const region = 'eu-west-1';
let server: AwsJsonServer;
let client: SecretsManagerClient;
let dir: string;
let secretText: string;
let reads = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'clm-page-keys-'));
  secretText = ensureLocalPageKeys(dir);
  const queues = new QueueRegistry({ region, persistDir: dir });
  const bus = new LocalBus({ name: 'ServerlessClm-events', region, queueFor: (s) => queues.ensure(s.id) });
  server = await startAwsJsonServer({
    bus,
    queues,
    secrets: new Map([['ServerlessClm-page-keys', () => (reads++, secretText)]]),
  });
  client = new SecretsManagerClient({ endpoint: server.url, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  client?.destroy();
  await server?.close();
});

describe('local page keys', () => {
  it('are generated once per state directory, owner-readable only, and kept across runs', () => {
    const file = path.join(dir, PAGE_KEYS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(ensureLocalPageKeys(dir)).toBe(secretText);
    const ring = parseKeyRing(secretText);
    expect(ring.current.secret.byteLength).toBeGreaterThanOrEqual(32);
    const other = mkdtempSync(path.join(os.tmpdir(), 'clm-page-keys-'));
    expect(parseKeyRing(ensureLocalPageKeys(other)).current.secret).not.toEqual(ring.current.secret);
  });

  it('a damaged key file is refused, naming the field and not the key', () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'clm-page-keys-'));
    writeFileSync(path.join(other, PAGE_KEYS_FILE), JSON.stringify({ kid: 'k1', key: 'tooshort-secret' }));
    expect(() => ensureLocalPageKeys(other)).toThrow(/page signing keys are invalid: key: too_small/);
    expect(() => ensureLocalPageKeys(other)).not.toThrow(/tooshort/);
    expect(readFileSync(path.join(other, PAGE_KEYS_FILE), 'utf8')).toContain('tooshort'); // left as it was
  });
});

describe('SecretsManagerPageKeys', () => {
  it('reads the key ring through GetSecretValue and caches it per container for cacheSeconds', async () => {
    let clock = 1_000_000;
    const keys = new SecretsManagerPageKeys(client, 'ServerlessClm-page-keys', { cacheSeconds: 60, clock: () => clock });
    const before = reads;
    const [a, b] = await Promise.all([keys.keyRing(), keys.keyRing()]);
    expect(reads - before).toBe(1);
    expect(a).toBe(b);
    const token = signToken(a, { purpose: 'unsubscribe', customerId: 'C-1', now: new Date() });
    expect(verifyToken(parseKeyRing(secretText), token, 'unsubscribe', new Date()).ok).toBe(true);
    clock += 59_000;
    await keys.keyRing();
    expect(reads - before).toBe(1);
    clock += 2_000;
    await keys.keyRing();
    expect(reads - before).toBe(2);
  });

  it('an unknown secret fails with the service error, and a failure is not cached', async () => {
    const keys = new SecretsManagerPageKeys(client, 'no-such-secret');
    await expect(keys.keyRing()).rejects.toThrow(/can't find the specified secret/);
    await expect(keys.keyRing()).rejects.toThrow(/can't find the specified secret/);
  });

  it('error paths (mocked SDK): a throttled read is retried on the next call; a binary secret is refused', async () => {
    const mock = mockClient(SecretsManagerClient);
    try {
      mock.on(GetSecretValueCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).resolves({ SecretString: secretText });
      const mocked = new SecretsManagerClient({ region, maxAttempts: 1 });
      const keys = new SecretsManagerPageKeys(mocked, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x');
      await expect(keys.keyRing()).rejects.toThrow(/Rate exceeded/);
      expect((await keys.keyRing()).current.id).toMatch(/^local-/);
      mock.reset();
      mock.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
      await expect(new SecretsManagerPageKeys(mocked, 'x').keyRing()).rejects.toThrow(/has no SecretString/);
    } finally {
      mock.restore();
    }
  });
});
