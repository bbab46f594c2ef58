/**
 * The local stack's erasure salt (docs/erasure.md): one per state directory
 * (`<state dir>/privacy-salt`, readable by its owner only), generated on the first run and kept.
 * The local AWS JSON endpoint serves it as the Secrets Manager secret the functions read, so they
 * use the same adapter as in AWS; `clm erase --endpoint` reads the file. Never printed.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseSalt } from '../shared/adapters/secrets-manager-privacy-salt.ts';
import { ensureOwnerOnlyFile } from './page-keys.ts';

export const PRIVACY_SALT_FILE = 'privacy-salt';

/** The state directory's salt, created when missing (64 hex digits). */
export function ensureLocalPrivacySalt(stateDir: string): string {
  const file = path.join(stateDir, PRIVACY_SALT_FILE);
  return parseSalt(
    ensureOwnerOnlyFile(file, () => `${randomBytes(32).toString('hex')}\n`, (text) => void parseSalt(text, file)),
    file,
  );
}
