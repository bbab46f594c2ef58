/**
 * The erasure salt (docs/erasure.md) from a Secrets Manager secret: the salted hashes of erased
 * customers' ids (tombstones) and addresses (the suppression list) are taken with it. Read once per
 * container and kept: the salt never changes (a new one would orphan every hash already kept), so
 * there is nothing to refresh. Concurrent callers share one read; a failed read is not kept. The
 * value never reaches a log or an error message.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A salt is at least 32 letters or digits (the stack generates 64; a salt carried over from the table is 64 hex digits). */
export const SALT_PATTERN = /^[A-Za-z0-9]{32,}$/;

/** The salt as stored, checked: refuses a value that is not one, naming the secret but not the value. */
export function parseSalt(value: string | undefined, secretId: string): string {
  const salt = value?.trim();
  if (!salt || !SALT_PATTERN.test(salt)) throw new Error(`the erasure salt secret ${secretId} does not hold a salt (at least 32 letters or digits)`);
  return salt;
}

export class SecretsManagerPrivacySalt {
  private cached?: Promise<string>;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  /** The salt; one GetSecretValue per container. */
  salt(): Promise<string> {
    this.cached ??= this.read().catch((e) => {
      this.cached = undefined;
      throw e;
    });
    return this.cached;
  }

  private async read(): Promise<string> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    return parseSalt(out.SecretString, this.secretId);
  }
}
