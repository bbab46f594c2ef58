/**
 * Write a seeded simulated customer summary CSV for the whole-process benchmark:
 *   npx tsx bench/make-summary-csv.ts <customers> <day|continuous> <out.csv>
 * Columns customer_id,frequency,recency,T,monetary_value (weeks), numbers printed in full
 * (shortest round-trip, as pandas' to_csv and lifetimes' summaries do).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { simulateBenchCustomers } from './simulation.ts';

export function writeSummaryCsv(n: number, mode: 'day' | 'continuous', file: string): void {
  const d = simulateBenchCustomers(n, mode);

  const fd = openSync(file, 'w');
  writeSync(fd, 'customer_id,frequency,recency,T,monetary_value\n');
  let buf = '';
  for (let i = 0; i < n; i++) {
    buf += `C${String(i + 1).padStart(7, '0')},${d.frequency[i]},${d.recency[i]},${d.T[i]},${d.monetary[i]}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

if (process.argv[1]?.endsWith('make-summary-csv.ts')) {
  const [n, mode, out] = process.argv.slice(2);
  if (!n || !out || (mode !== 'day' && mode !== 'continuous')) {
    process.stderr.write('usage: make-summary-csv.ts <customers> <day|continuous> <out.csv>\n');
    process.exit(2);
  }
  writeSummaryCsv(Number(n), mode, out);
}
