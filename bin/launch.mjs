/**
 * Which code bin/clm.js runs: the prebuilt bundle dist/clm.mjs (fast start-up) when it is
 * newer than every file it was built from, otherwise null (run the sources through tsx).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** URL of a fresh bundle in `dir` (inputs listed relative to `base`), or null. */
export function freshBundle(dir = path.join(root, 'dist'), base = root) {
  if (process.env.CLM_NO_BUNDLE) return null;
  try {
    const bundle = path.join(dir, 'clm.mjs');
    const built = statSync(bundle).mtimeMs;
    const inputs = JSON.parse(readFileSync(path.join(dir, 'clm.inputs.json'), 'utf8'));
    if (!Array.isArray(inputs) || inputs.length === 0) return null;
    for (const f of inputs) if (statSync(path.resolve(base, f)).mtimeMs > built) return null;
    return pathToFileURL(bundle).href;
  } catch {
    return null;
  }
}
