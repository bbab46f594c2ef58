/**
 * A bad trigger configuration stops `cdk synth` and `npm start` (each run as the command runs it,
 * in a child process pointed at the file with CLM_TRIGGERS_FILE) with a message naming the
 * trigger and the field, before anything is synthesized or started; a good one other than the
 * repository's drives the stream filter and ships beside every function's bundle, where the
 * bundled code reads it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import rawConfig from '../../config/triggers.json' with { type: 'json' };
import { REPO_ROOT } from '../../infra/constructs/clm-function.ts';
import { BUNDLED_TRIGGERS_FILE, loadTriggerConfig, TriggerConfigError, triggerConfigFile, TRIGGERS_FILE_ENV } from '../../shared/triggers/config.ts';
import { functionSpecs } from '../../shared/wiring.ts';

const tsx = path.join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs');
const tmp = (prefix: string) => mkdtempSync(path.join(tmpdir(), prefix));

/** The repository's configuration with a change, written to a file of its own. */
function configFile(mutate: (c: typeof rawConfig & Record<string, unknown>) => void): string {
  const c = structuredClone(rawConfig) as typeof rawConfig & Record<string, unknown>;
  mutate(c);
  const file = path.join(tmp('clm-triggers-'), 'triggers.json');
  writeFileSync(file, JSON.stringify(c, null, 2));
  return file;
}
const badWindow = () => configFile((c) => ((c.triggers[1]!.params as Record<string, unknown>).windowDays = 0));
const BAD_WINDOW = /invalid trigger configuration in .*triggers\.json:\n\s+trigger "repeated-complaints" \(triggers\[1\]\), field params\.windowDays: Too small: expected number to be >=1/;

/** Runs a TypeScript entry point as its npm script does (node with tsx), with CLM_TRIGGERS_FILE set. */
function run(entry: string, args: string[], env: Record<string, string>, timeout = 240_000) {
  const { CLM_TRIGGERS_FILE: _, ...inherited } = process.env;
  return spawnSync(process.execPath, [tsx, entry, ...args], { cwd: REPO_ROOT, env: { ...inherited, ...env }, encoding: 'utf8', timeout });
}

describe('the trigger configuration file', () => {
  it('CLM_TRIGGERS_FILE names it (relative to the working directory); unset, the repository file bundled into the code is used', () => {
    expect(triggerConfigFile({ [TRIGGERS_FILE_ENV]: 'conf/mine.json' })).toBe(path.resolve('conf/mine.json'));
    expect(triggerConfigFile({})).toBeUndefined();
    expect(triggerConfigFile({ [TRIGGERS_FILE_ENV]: '  ' })).toBeUndefined();
  });

  it('a file that is missing, not JSON or invalid is a TriggerConfigError naming the file (and the trigger and field)', () => {
    const dir = tmp('clm-triggers-');
    expect(() => loadTriggerConfig(path.join(dir, 'none.json'))).toThrow(new RegExp(`cannot read the trigger configuration ${dir}/none\\.json: ENOENT`));
    writeFileSync(path.join(dir, 'broken.json'), '{"maxEventAgeDays": 14,');
    expect(() => loadTriggerConfig(path.join(dir, 'broken.json'))).toThrow(TriggerConfigError);
    expect(() => loadTriggerConfig(path.join(dir, 'broken.json'))).toThrow(/broken\.json: not JSON/);
    expect(() => loadTriggerConfig(badWindow())).toThrow(BAD_WINDOW);
  });
});

describe('cdk synth', () => {
  // The CDK CLI runs infra/app.ts with the context in CDK_CONTEXT_JSON and writes to CDK_OUTDIR.
  const synth = (file: string, context: Record<string, unknown> = {}) => {
    const outdir = tmp('clm-cdk-out-');
    const r = run('infra/app.ts', [], { [TRIGGERS_FILE_ENV]: file, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) });
    return { ...r, outdir };
  };

  it('fails on a bad definition with a message naming the trigger and the field, and writes no template', () => {
    const r = synth(badWindow(), { 'aws:cdk:bundling-stacks': [] });
    expect(r.status, r.stderr).not.toBe(0);
    expect(r.stderr).toMatch(/TriggerConfigError/);
    expect(r.stderr).toMatch(BAD_WINDOW);
    expect(readdirSync(r.outdir)).toEqual([]);
  }, 240_000);

  it('a good file of its own drives the stream filter (enabling a trigger on returns adds OrderReturned) and ships beside every function', () => {
    const file = configFile((c) => (c.triggers.find((t) => t.id === 'repeated-returns')!.enabled = true));
    const r = synth(file);
    expect(r.status, r.stderr).toBe(0);
    const bundles = readdirSync(r.outdir).filter((d) => existsSync(path.join(r.outdir, d, 'index.mjs')));
    expect(bundles).toHaveLength(Object.keys(functionSpecs).length);
    for (const d of bundles) expect(readFileSync(path.join(r.outdir, d, BUNDLED_TRIGGERS_FILE), 'utf8')).toBe(readFileSync(file, 'utf8'));
    const template = JSON.parse(readFileSync(path.join(r.outdir, 'ServerlessClm.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
    const mappings = Object.values(template.Resources).filter((x) => x.Type === 'AWS::Lambda::EventSourceMapping' && x.Properties.FilterCriteria);
    expect(mappings).toHaveLength(1);
    const types = JSON.parse(mappings[0]!.Properties.FilterCriteria.Filters[0].Pattern).dynamodb.NewImage.type.S as string[];
    expect(types).toContain('OrderReturned');
    expect(types).toContain('SupportCallLogged');
    rmSync(r.outdir, { recursive: true, force: true });
  }, 240_000);
});

describe('npm start', () => {
  it('exits non-zero on a bad definition with the message, before starting any service', () => {
    const stateDir = tmp('clm-start-');
    const r = run('local/start.ts', ['--customers', '20', '--state-dir', stateDir], { [TRIGGERS_FILE_ENV]: badWindow() }, 120_000);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toMatch(BAD_WINDOW);
    // Nothing started: no endpoints printed, nothing written to the state directory.
    expect(r.stdout).not.toMatch(/DynamoDB|bus ServerlessClm-events|Summary/);
    expect(readdirSync(stateDir)).toEqual([]);
  }, 180_000);
});

describe('the functions read the file shipped beside their bundle', () => {
  it('bundled code reads the copy beside it, and a bad copy stops it loading with the message', async () => {
    const dir = tmp('clm-bundle-');
    await build({ entryPoints: [path.join(REPO_ROOT, 'shared/triggers/config.ts')], bundle: true, platform: 'node', format: 'esm', outfile: path.join(dir, 'index.mjs'), logLevel: 'error' });
    const load = () => spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(path.join(dir, 'index.mjs'))}); console.log(JSON.stringify([m.triggerConfigSource, m.triggerConfig.triggers[0].description]))`], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } });
    // Without a copy: the repository's configuration, bundled in.
    expect(JSON.parse(load().stdout)).toEqual([null, rawConfig.triggers[0]!.description]);
    writeFileSync(path.join(dir, BUNDLED_TRIGGERS_FILE), readFileSync(configFile((c) => (c.triggers[0]!.description = 'the copy beside the bundle'))));
    expect(JSON.parse(load().stdout)).toEqual([path.join(dir, BUNDLED_TRIGGERS_FILE), 'the copy beside the bundle']);
    writeFileSync(path.join(dir, BUNDLED_TRIGGERS_FILE), readFileSync(badWindow()));
    const bad = load();
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(BAD_WINDOW);
  }, 120_000);
});
