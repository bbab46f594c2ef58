#!/usr/bin/env node
// Runs the vitest suite (arguments pass through), then prints one plain line
// `N passed, N failed[, N skipped]` that CI can count, and exits with vitest's code.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const out = path.join(tmpdir(), `clm-vitest-${process.pid}.json`);
const vitest = spawnSync(
  'vitest',
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...process.argv.slice(2)],
  { stdio: 'inherit', shell: process.platform === 'win32' },
);
let code = vitest.status ?? 1;
if (existsSync(out)) {
  const r = JSON.parse(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (r.numTotalTests === 0) code = code || 1;
} else {
  console.log('\n0 passed, 1 failed');
  code = code || 1;
}
process.exit(code);
