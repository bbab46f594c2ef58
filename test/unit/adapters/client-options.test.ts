/** The handlers' SDK clients: the SDK's socket default in Lambda, more sockets when the local stack asks for them. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { clientOptions } from '../../../functions/commons/clients.ts';

const maxSocketsOf = async (client: DynamoDBClient): Promise<number> => {
  const handler = client.config.requestHandler as unknown as { configProvider: Promise<{ httpAgentProvider: () => Promise<{ maxSockets: number }>; httpsAgent: { maxSockets: number } }> };
  const config = await handler.configProvider;
  expect(config.httpsAgent.maxSockets).toBe((await config.httpAgentProvider()).maxSockets);
  return config.httpsAgent.maxSockets;
};

describe('handler client options', () => {
  afterEach(() => {
    delete process.env.CLM_LOCAL_MAX_SOCKETS;
  });

  it('keep the SDK default (50 sockets) unless the local stack sets CLM_LOCAL_MAX_SOCKETS', async () => {
    expect(clientOptions()).toEqual({});
    const client = new DynamoDBClient({ region: 'eu-west-1', ...clientOptions() });
    expect(await maxSocketsOf(client)).toBe(50);
    client.destroy();
  });

  it('give every client that many sockets when it is set', async () => {
    process.env.CLM_LOCAL_MAX_SOCKETS = '490';
    const client = new DynamoDBClient({ region: 'eu-west-1', ...clientOptions() });
    expect(await maxSocketsOf(client)).toBe(490);
    client.destroy();
  });
});
