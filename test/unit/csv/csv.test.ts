/** The shared CSV reader (shared/csv.ts) and the CLI's CSV writer (cli/csv-writer.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvWriter } from '../../../cli/csv-writer.ts';
import { type CsvRecord, CsvParser, CsvSyntaxError, TextColumn, parseCsv } from '../../../shared/csv.ts';

/** Parse `text` fed in pieces of the given sizes (cycled), collecting line, fields and numbers. */
function chunked(text: string, sizes: number[]) {
  const rows: { line: number; cells: string[] }[] = [];
  const p = new CsvParser((r) => rows.push({ line: r.line, cells: r.texts() }));
  const b = Buffer.from(text, 'utf8');
  for (let at = 0, k = 0; at < b.length; k++) {
    const n = Math.max(1, sizes[k % sizes.length]);
    p.push(b.subarray(at, at + n));
    at += n;
  }
  p.end();
  return rows;
}

/** A straightforward character-at-a-time reading of the documented syntax (the oracle). */
function reference(text: string) {
  const rows: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0].trim() === '')) rows.push({ line: rowLine, cells });
    cells = [];
    cell = '';
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
      continue;
    }
    if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else cell += ch;
  }
  if (quoted) throw new Error('unterminated');
  if (cell !== '' || cells.length) endRow();
  return rows;
}

describe('CSV parser', () => {
  it('handles quotes, doubled quotes, newlines in quotes, CRLF and blank lines', () => {
    const rows = parseCsv('a,b\r\n"x, y","say ""hi"""\n\n"multi\nline",2\n');
    expect(rows).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['x, y', 'say "hi"'] },
      { line: 4, cells: ['multi\nline', '2'] },
    ]);
  });

  it('reads a last record without a line break, lone CRs, a BOM, and text after a closing quote', () => {
    expect(parseCsv('\uFEFFa,b\rc,"d"e\r\n  \n"x""",')).toEqual([
      { line: 1, cells: ['a', 'b'] },
      { line: 2, cells: ['c', 'de'] },
      { line: 4, cells: ['x"', ''] },
    ]);
    expect(parseCsv('a,b"c\n')).toEqual([{ line: 1, cells: ['a', 'b"c'] }]);
    expect(parseCsv('')).toEqual([]);
  });

  it('rejects an unterminated quote with the line it starts on', () => {
    expect(() => parseCsv('a\n"oops\n')).toThrow(/unterminated quoted field starting on line 2/);
    try {
      parseCsv('a\nb\n"x\n\n');
    } catch (e) {
      expect(e).toBeInstanceOf(CsvSyntaxError);
      expect((e as CsvSyntaxError).line).toBe(3);
    }
  });

  it('gives the same records however the input is cut into chunks, as the reference reading does', () => {
    const piece = fc.constantFrom('a', 'é', '1.5', ',', '"', '""', '\n', '\r', '\r\n', ' ', '\t', 'x y', '€');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), (parts, sizes) => {
        const text = parts.join('');
        let expected: unknown;
        try {
          expected = reference(text);
        } catch {
          expected = 'unterminated';
        }
        let whole: unknown;
        let pieces: unknown;
        try {
          whole = parseCsv(text);
        } catch (e) {
          whole = e instanceof CsvSyntaxError ? 'unterminated' : e;
        }
        try {
          pieces = chunked(text, sizes);
        } catch (e) {
          pieces = e instanceof CsvSyntaxError ? 'unterminated' : e;
        }
        expect(whole).toEqual(expected);
        expect(pieces).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('CsvRecord.number and appendTrimmed', () => {
  const one = (field: string) => {
    let v = NaN;
    let id = '';
    const col = new TextColumn(1);
    const p = new CsvParser((r: CsvRecord) => {
      v = r.number(0);
      r.appendTrimmed(0, col);
      id = col.get(0);
    });
    p.push(Buffer.from(`${field},z\n`));
    p.end();
    return { v, id };
  };
  const old = (s: string) => (s.trim() === '' ? NaN : Number(s.trim()));

  it('is Number(trimmed text), NaN when empty, for plain and odd numbers', () => {
    for (const s of ['0', '-0', '+3', '007', '5.', '.5', '-.5', '1.25', ' 42 ', '\t7', '', '  ', '.', '-', '1e5', '2.5E-3', '0x1A', 'Infinity', '1.2.3', 'abc', '9007199254740993', '16.571428571428573', '0.1', '"1.5"', '"  "', '\u00a012', '123456789012345678901234567890', '1.0000000000000000000000001']) {
      const got = one(s).v;
      const text = s.startsWith('"') ? s.slice(1, -1) : s;
      expect(Object.is(got, old(text)), `${JSON.stringify(s)}: ${got} vs ${old(text)}`).toBe(true);
    }
  });

  it('matches Number on random decimals', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 20 }), (x, d) => {
        for (const s of [String(x), x.toFixed(Math.min(d, 20)), x.toPrecision(Math.max(1, d))]) expect(Object.is(one(s).v, old(s))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('trims ids as String.prototype.trim does and keeps their bytes', () => {
    expect(one('  C-001 ').id).toBe('C-001');
    expect(one('"  quoted, id "').id).toBe('quoted, id');
    expect(one('\u00a0Zoë\u00a0').id).toBe('Zoë');
    expect(one('\u00e9t\u00e9').id).toBe('été');
  });
});

describe('CsvWriter', () => {
  const write = (fn: (w: CsvWriter) => void, size = 64) => {
    const parts: Buffer[] = [];
    const w = new CsvWriter((b) => parts.push(Buffer.from(b)), size);
    fn(w);
    w.flush();
    return Buffer.concat(parts).toString('utf8');
  };
  const f6 = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 1e6) / 1e6) : '');

  it('decimal6 prints exactly String(Math.round(x * 1e6) / 1e6)', () => {
    const cases = [0, -0, 1, -1, 0.5, 1e-6, 4e-7, 5e-7, -4e-7, 1.0000005, 123.4567895, 999999999.9999994, 1e9, 1e12, 1e300, -2.5e-6, 9.99999949, Number.MAX_VALUE, NaN, Infinity, -Infinity];
    for (const x of cases) expect(write((w) => w.decimal6(x))).toBe(f6(x));
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true }), fc.double({ min: -1e4, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), (x) => {
        expect(write((w) => w.decimal6(x))).toBe(f6(x));
      }),
      { numRuns: 20000 },
    );
  });

  it('number prints String(x); fields are quoted when needed; chunks are cut anywhere', () => {
    for (const x of [0, 7, 2147483647, 2147483648, 1e21, -3, 0.5]) expect(write((w) => w.number(x))).toBe(String(x));
    const ids = TextColumn.from(['plain', 'a,b', 'say "hi"', 'two\nlines', 'ünï']);
    const out = write((w) => {
      for (let i = 0; i < ids.length; i++) {
        w.field(ids, i);
        w.raw('\n');
      }
    }, 4);
    expect(out).toBe('plain\n"a,b"\n"say ""hi"""\n"two\nlines"\nünï\n');
    expect(parseCsv(out).map((r) => r.cells[0])).toEqual(['plain', 'a,b', 'say "hi"', 'two\nlines', 'ünï']);
  });
});
