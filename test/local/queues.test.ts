import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QueueRegistry } from '../../local/queues.ts';

describe('persistent local queues', () => {
  it('truncate their .jsonl file at stack start: the file holds this run only', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-queues-'));
    const file = path.join(dir, 'rejected-events.jsonl');
    writeFileSync(file, '{"from":"an earlier run"}\n{"from":"an earlier run"}\n');
    const queues = new QueueRegistry({ region: 'eu-west-1', persistDir: dir });
    const q = queues.ensure('rejected-events', { persist: true });
    expect(readFileSync(file, 'utf8')).toBe('');
    q.send('{"code":"invalid-detail"}');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ body: '{"code":"invalid-detail"}' });
    // Ensuring the same queue again within the run keeps its messages.
    queues.ensure('rejected-events', { persist: true });
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('in-memory queues write no file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clm-queues-'));
    new QueueRegistry({ region: 'eu-west-1', persistDir: dir }).ensure('BusinessEventsToIngest').send('{}');
    expect(existsSync(path.join(dir, 'BusinessEventsToIngest.jsonl'))).toBe(false);
  });
});
