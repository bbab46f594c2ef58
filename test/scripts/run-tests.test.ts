/**
 * The summary line CI reads (`N passed, N failed`) must count a test file that fails to load,
 * and a describe block that throws, as failures, and `npm test` must then exit non-zero.
 * Runs scripts/run-tests.mjs on throwaway test directories.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function runOn(files: Record<string, string>): { status: number | null; summary: string | undefined; out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'clm-run-tests-'));
  dirs.push(dir);
  const config = path.join(dir, 'vitest.config.mjs');
  writeFileSync(config, "export default { test: { include: ['*.test.ts'] } };\n");
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  // Arguments pass through to vitest (and skip the type check): run the fixture directory only.
  const r = spawnSync(process.execPath, [path.join(repo, 'scripts/run-tests.mjs'), '--root', dir, '--config', config], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${path.join(repo, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}` },
  });
  const out = `${r.stdout}${r.stderr}`;
  const summary = out.split('\n').filter((l) => /^\d+ passed, \d+ failed/.test(l)).at(-1);
  return { status: r.status, summary, out };
}

const passing = "import { expect, it } from 'vitest';\nit('adds', () => expect(1 + 1).toBe(2));\nit('subtracts', () => expect(2 - 1).toBe(1));\n";

describe('scripts/run-tests.mjs summary line', () => {
  it('reports passing tests and exits 0', () => {
    const r = runOn({ 'good.test.ts': passing });
    expect(r.summary).toBe('2 passed, 0 failed');
    expect(r.status).toBe(0);
  });

  it('counts a test file that fails to load as failed and exits non-zero', () => {
    const r = runOn({
      'good.test.ts': passing,
      'broken.test.ts': "import { missing } from './no-such-module.ts';\nimport { expect, it } from 'vitest';\nit('never runs', () => expect(missing).toBe(1));\n",
    });
    expect(r.summary).toBe('2 passed, 1 failed');
    expect(r.out).toMatch(/failed to run: .*broken\.test\.ts/);
    expect(r.status).not.toBe(0);
  });

  it('counts a describe block that throws as failed and exits non-zero', () => {
    const r = runOn({
      'good.test.ts': passing,
      'throws.test.ts': "import { describe, expect, it } from 'vitest';\ndescribe('block', () => {\n  it('would pass', () => expect(1).toBe(1));\n  throw new Error('describe blew up');\n});\n",
    });
    expect(r.summary).toBe('2 passed, 1 failed');
    expect(r.status).not.toBe(0);
  });

  it('counts a failing test once', () => {
    const r = runOn({ 'bad.test.ts': "import { expect, it } from 'vitest';\nit('fails', () => expect(1).toBe(2));\nit('passes', () => expect(1).toBe(1));\n" });
    expect(r.summary).toBe('1 passed, 1 failed');
    expect(r.status).not.toBe(0);
  });
});
