/**
 * The local stack's public pages: an HTTP server that turns each request into
 * the event a Lambda function URL delivers (payload format 2.0) and invokes
 * the pages function's handler with it, as AWS would, then writes its result
 * back. The same handler module runs here and in Lambda.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { invokeWithTimeout, type Handler } from './invoke.ts';
import { publicPages } from '../shared/wiring.ts';

/** Lambda's limit for a function URL request payload. */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

export type PagesServer = { url: string; port: number; close: () => Promise<void> };

type UrlResult = { statusCode?: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean; cookies?: string[] };

/** The function URL event (payload format 2.0) of one request: what Lambda delivers for it. */
export function functionUrlEvent(req: { method: string; url: string; headers: http.IncomingHttpHeaders; remoteAddress?: string }, body: Buffer, host: string) {
  const target = new URL(req.url, 'http://local');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') cookies = [value].flat().flatMap((v) => v.split(/;\s*/));
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: target.pathname,
    rawQueryString: target.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(target.search ? { queryStringParameters: Object.fromEntries(target.searchParams) } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0]!,
      http: { method: req.method, path: target.pathname, protocol: 'HTTP/1.1', sourceIp: req.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0,
  };
}

export async function startPagesServer(options: { handler: () => Promise<Handler>; region: string; port?: number; host?: string; onError?: (e: unknown) => void }): Promise<PagesServer> {
  const hostName = options.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      void (async () => {
        if (size > MAX_REQUEST_BYTES) {
          res.writeHead(413, { 'content-type': 'text/plain' }).end('Request Entity Too Large');
          return;
        }
        const event = functionUrlEvent({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, remoteAddress: req.socket.remoteAddress }, Buffer.concat(chunks), req.headers.host ?? hostName);
        try {
          const out = (await invokeWithTimeout(await options.handler(), publicPages.function, event, options.region)) as UrlResult;
          const body = out.body === undefined ? Buffer.alloc(0) : Buffer.from(out.body, out.isBase64Encoded ? 'base64' : 'utf8');
          res.writeHead(out.statusCode ?? 200, { ...out.headers, 'content-length': String(body.length) });
          res.end(req.method === 'HEAD' ? undefined : body);
        } catch (e) {
          options.onError?.(e);
          // What a function URL answers when the function fails.
          res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ Message: 'Internal Server Error' }));
        }
      })();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, hostName, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${hostName}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
