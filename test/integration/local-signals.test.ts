/**
 * `npm start` as a user runs it, stopped every way a user (or a crashed
 * terminal) stops it: SIGINT or SIGTERM to npm, SIGKILL of npm or of the stack's
 * Node process, and a service dying under it. Every process it started —
 * Node, java (DynamoDB Local), the SES emulator — must be gone within seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandOf, descendants, running, waitGone } from '../support/process-tree.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const started: number[] = [];
/** Every npm started, from the moment it is spawned: one that never got ready (or a test that timed out) is stopped too. */
const spawned: number[] = [];

async function startNpm() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'clm-signals-'));
  const child: ChildProcess = spawn('npm', ['start', '--', '--import', 'test/fixtures/import', '--keep-running', '--state-dir', stateDir], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.push(child.pid!);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const end = Date.now() + 90_000;
  while (!/Ready: the local stack is running/.test(output)) {
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
    if (Date.now() > end) throw new Error(`npm start did not get ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const tree = descendants(child.pid!);
  started.push(child.pid!, ...tree);
  const find = (re: RegExp) => {
    const pid = tree.find((p) => re.test(commandOf(p)));
    if (!pid) throw new Error(`no ${re} among ${tree.map((p) => `${p} ${commandOf(p)}`).join('\n')}`);
    return pid;
  };
  return {
    npm: child.pid!,
    tree,
    stack: find(/local\/start\.ts/),
    java: find(/DynamoDbLocalWatchdog/),
    ses: find(/aws-ses-v2-local/),
    exited,
    output: () => output,
  };
}

afterAll(() => {
  // The trees as they are now (before npm is killed: its children would be re-parented), then what was seen at ready.
  const pids = [...spawned.flatMap((pid) => [pid, ...descendants(pid)]), ...started];
  for (const pid of new Set(pids)) if (running(pid)) process.kill(pid, 'SIGKILL');
});

describe('npm start stops as a whole', () => {
  it.each([
    ['SIGTERM to npm', 'npm', 'SIGTERM', /SIGTERM: stopping[\s\S]*stopped\./],
    ['SIGINT to npm', 'npm', 'SIGINT', /SIGINT: stopping[\s\S]*stopped\./],
    ['SIGKILL of npm', 'npm', 'SIGKILL', undefined],
    ['SIGKILL of the stack process', 'stack', 'SIGKILL', undefined],
    ['SIGTERM to DynamoDB Local', 'java', 'SIGTERM', /DynamoDB Local exited .* unexpectedly: stopping[\s\S]*stopped\./],
  ] as const)('%s: every process it started is gone within seconds', async (_name, target, signal, message) => {
    const run = await startNpm();
    expect(run.tree.length).toBeGreaterThanOrEqual(3);
    process.kill(run[target], signal);
    const left = await waitGone([run.npm, ...run.tree], 8_000);
    expect(left.map((p) => `${p} ${commandOf(p)}`), run.output()).toEqual([]);
    await run.exited;
    if (message) expect(run.output()).toMatch(message);
    // Stopping in order (event sources before services) is quiet; only a service that really died is reported.
    if (target !== 'java') expect(run.output()).not.toMatch(/ECONNREFUSED|Error/);
  }, 120_000);
});
