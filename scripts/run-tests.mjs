#!/usr/bin/env node
// Type-checks the project (tsc), runs the vitest suite (arguments pass through),
// then prints one plain line `N passed, N failed[, N skipped]` that CI can count
// (the type check counts as one test; a test file that fails to load, or whose describe
// block or hooks throw, counts as one failed test) and exits non-zero if anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const typecheck = process.argv.length > 2 ? null : spawnSync('tsc', ['-p', '.'], { stdio: 'inherit', shell: process.platform === 'win32' });
const typecheckFailed = typecheck !== null && typecheck.status !== 0;
if (typecheck) console.log(typecheckFailed ? 'type check: FAILED (see above)' : 'type check: ok');

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
  const tc = typecheck ? (typecheckFailed ? [0, 1] : [1, 0]) : [0, 0];
  // A file that failed without a failed test in it: it did not load, a describe block threw,
  // or a hook failed. Its tests may never have run, so it counts as one failure of its own.
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  );
  for (const f of brokenFiles) console.log(`failed to run: ${path.relative(process.cwd(), f.name)}: ${(f.message ?? '').split('\n')[0]}`);
  const failed = r.numFailedTests + brokenFiles.length + tc[1];
  console.log(`\n${r.numPassedTests + tc[0]} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  if (r.numTotalTests === 0 || failed > 0) code = code || 1;
} else {
  console.log('\n0 passed, 1 failed');
  code = code || 1;
}
process.exit(typecheckFailed ? code || 1 : code);
