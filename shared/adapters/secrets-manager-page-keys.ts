/**
 * PageKeySource on a Secrets Manager secret holding the key ring as JSON
 * (`{"kid","key","previous":[{"kid","key","acceptUntil"}]}`, see docs/pages.md).
 * Read once per container and kept for `cacheSeconds` (default 5 minutes), so
 * a rotation reaches every container within that time; concurrent callers
 * share one read, and a failed read is not cached. The secret never reaches a
 * log or an error message.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseKeyRing, type KeyRing } from '../pages/tokens.ts';
import type { PageKeySource } from '../ports.ts';

export class SecretsManagerPageKeys implements PageKeySource {
  private cached?: { ring: Promise<KeyRing>; until: number };

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly options: { cacheSeconds?: number; clock?: () => number } = {},
  ) {}

  keyRing(): Promise<KeyRing> {
    const now = (this.options.clock ?? Date.now)();
    if (this.cached && now < this.cached.until) return this.cached.ring;
    const ring = this.read();
    const entry = { ring, until: now + (this.options.cacheSeconds ?? 300) * 1000 };
    this.cached = entry;
    ring.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    return ring;
  }

  private async read(): Promise<KeyRing> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    if (typeof out.SecretString !== 'string') throw new Error(`the page signing keys secret ${this.secretId} has no SecretString`);
    return parseKeyRing(out.SecretString);
  }
}
