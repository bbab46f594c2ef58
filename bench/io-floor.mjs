/**
 * The I/O floor of `clm score` for bench/cli.bench.ts: a minimal Node process that reads
 * <input> in 1 MB chunks (touching every byte) and writes <bytes> bytes to <output> in 1 MB
 * chunks, as clm does, with no parsing, model or formatting.
 *   node bench/io-floor.mjs <input> <output> <bytes>
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

const [input, output, bytes] = process.argv.slice(2);
const buf = Buffer.allocUnsafe(1 << 20);
const inFd = openSync(input, 'r');
let lines = 0;
for (let n; (n = readSync(inFd, buf, 0, buf.length, null)) > 0; ) for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
closeSync(inFd);
const outFd = openSync(output, 'w');
buf.fill(48);
for (let left = Number(bytes); left > 0; left -= buf.length) writeSync(outFd, buf, 0, Math.min(left, buf.length));
closeSync(outFd);
process.stderr.write(`${lines} lines\n`);
