/**
 * The erasure salt as the functions read it: the Secrets Manager adapter with the real SDK client
 * against the local stack's GetSecretValue, and the salt the local stack generates per state
 * directory. Error paths of the SDK call: aws-sdk-client-mock.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsJsonServer, type AwsJsonServer } from '../../local/aws-json-server.ts';
import { LocalBus } from '../../local/bus.ts';
import { PRIVACY_SALT_FILE, ensureLocalPrivacySalt } from '../../local/privacy-salt.ts';
import { QueueRegistry } from '../../local/queues.ts';
import { SecretsManagerPrivacySalt, parseSalt } from '../../shared/adapters/secrets-manager-privacy-salt.ts';

const region = 'eu-west-1';
let server: AwsJsonServer;
let client: SecretsManagerClient;
let dir: string;
let salt: string;
let reads = 0;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'clm-salt-'));
  salt = ensureLocalPrivacySalt(dir);
  const queues = new QueueRegistry({ region, persistDir: dir });
  const bus = new LocalBus({ name: 'ServerlessClm-events', region, queueFor: (s) => queues.ensure(s.id) });
  server = await startAwsJsonServer({ bus, queues, secrets: new Map([['ServerlessClm-privacy-salt', () => (reads++, salt)]]) });
  client = new SecretsManagerClient({ endpoint: server.url, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  client?.destroy();
  await server?.close();
});

describe('local erasure salt', () => {
  it('is generated once per state directory (64 hex digits), owner-readable only, and kept across runs', () => {
    expect(salt).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(path.join(dir, PRIVACY_SALT_FILE)).mode & 0o777).toBe(0o600);
    expect(ensureLocalPrivacySalt(dir)).toBe(salt);
    expect(ensureLocalPrivacySalt(mkdtempSync(path.join(os.tmpdir(), 'clm-salt-')))).not.toBe(salt);
  });

  it('a damaged salt file is refused without printing it, and left as it was', () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'clm-salt-'));
    writeFileSync(path.join(other, PRIVACY_SALT_FILE), 'short-salt!');
    expect(() => ensureLocalPrivacySalt(other)).toThrow(/does not hold a salt/);
    expect(() => ensureLocalPrivacySalt(other)).not.toThrow(/short-salt/);
    expect(readFileSync(path.join(other, PRIVACY_SALT_FILE), 'utf8')).toBe('short-salt!');
  });

  it('a salt is at least 32 letters or digits (the stack generates 64 without punctuation)', () => {
    expect(parseSalt(`${'aZ9'.repeat(21)}x\n`, 's')).toBe(`${'aZ9'.repeat(21)}x`);
    for (const bad of [undefined, '', 'a'.repeat(31), `${'a'.repeat(40)}-`]) expect(() => parseSalt(bad, 'the-secret')).toThrow(/the erasure salt secret the-secret does not hold a salt/);
  });
});

describe('SecretsManagerPrivacySalt', () => {
  it('reads the salt through GetSecretValue once per container; concurrent callers share the read', async () => {
    const source = new SecretsManagerPrivacySalt(client, 'ServerlessClm-privacy-salt');
    const before = reads;
    const [a, b] = await Promise.all([source.salt(), source.salt()]);
    expect([a, b]).toEqual([salt, salt]);
    expect(await source.salt()).toBe(salt);
    expect(reads - before).toBe(1);
  });

  it('an unknown secret fails with the service error, and a failure is not kept', async () => {
    const source = new SecretsManagerPrivacySalt(client, 'no-such-secret');
    await expect(source.salt()).rejects.toThrow(/can't find the specified secret/);
    await expect(source.salt()).rejects.toThrow(/can't find the specified secret/);
  });

  it('error paths (mocked SDK): a throttled read is retried on the next call; a binary or malformed secret is refused without its value', async () => {
    const mock = mockClient(SecretsManagerClient);
    try {
      mock.on(GetSecretValueCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).resolves({ SecretString: salt });
      const mocked = new SecretsManagerClient({ region, maxAttempts: 1 });
      const source = new SecretsManagerPrivacySalt(mocked, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s');
      await expect(source.salt()).rejects.toThrow(/Rate exceeded/);
      expect(await source.salt()).toBe(salt);
      mock.reset();
      mock.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
      await expect(new SecretsManagerPrivacySalt(mocked, 'x').salt()).rejects.toThrow(/does not hold a salt/);
      mock.reset();
      mock.on(GetSecretValueCommand).resolves({ SecretString: 'not a salt: secret-value' });
      await expect(new SecretsManagerPrivacySalt(mocked, 'x').salt()).rejects.not.toThrow(/secret-value/);
    } finally {
      mock.restore();
    }
  });
});
