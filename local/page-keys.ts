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
  const file = path.join(stateDir, PAGE_KEYS_FILE);
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    parseKeyRing(text); // refuses a damaged file with a message naming the field, not the key
    return text;
  }
  mkdirSync(stateDir, { recursive: true });
  const ring: StoredKeyRing = { kid: `local-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`, key: randomBytes(32).toString('base64url'), previous: [] };
  const text = `${JSON.stringify(ring, null, 2)}\n`;
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
  return text;
}
