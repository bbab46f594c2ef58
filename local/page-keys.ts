/**
 * The local stack's page signing keys: one key ring per state directory
 * (`<state dir>/page-keys.json`, readable by its owner only), generated on the
 * first run and kept, so the links in emails of earlier runs keep working. The
 * local AWS JSON endpoint serves it as the Secrets Manager secret the functions
 * read, so they use the same adapter as in AWS. Never printed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseKeyRing, type StoredKeyRing } from '../shared/pages/tokens.ts';

export const PAGE_KEYS_FILE = 'page-keys.json';

/** The stored key ring of the state directory, created when missing. Returns its JSON text (the secret's value). */
export function ensureLocalPageKeys(stateDir: string): string {
  return ensureOwnerOnlyFile(
    path.join(stateDir, PAGE_KEYS_FILE),
    () => {
      const ring: StoredKeyRing = { kid: `local-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`, key: randomBytes(32).toString('base64url'), previous: [] };
      return `${JSON.stringify(ring, null, 2)}\n`;
    },
    (text) => void parseKeyRing(text), // refuses a damaged file with a message naming the field, not the key
  );
}

/**
 * The text of a secret file of the local stack's state directory: read and checked (`check` throws on a
 * damaged one, leaving it as it is), or created with `make()` readable by its owner only.
 */
export function ensureOwnerOnlyFile(file: string, make: () => string, check: (text: string) => void): string {
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    check(text);
    return text;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const text = make();
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
  return text;
}
