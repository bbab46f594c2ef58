/**
 * The argument parsing every table command shares (cli/command-args.ts), and the commands that
 * use it: help on stdout with exit 0, a bad flag named on stderr with the help and exit 2.
 */
import { describe, expect, it } from 'vitest';
import { commandArgs } from '../../../cli/command-args.ts';
import { consentCommand } from '../../../cli/consent.ts';
import { customerCommand } from '../../../cli/customer.ts';
import { winbackReportCommand } from '../../../cli/winback-report.ts';
import type { Io } from '../../../cli/main.ts';

function capture(): Io & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (s: string) => void (io.out += s), stderr: (s: string) => void (io.err += s) };
  return io as unknown as Io & { out: string; err: string };
}

describe('commandArgs', () => {
  const options = { table: { type: 'string' }, json: { type: 'boolean' } } as const;

  it('returns the values and positionals', () => {
    const io = capture();
    const parsed = commandArgs(['--table', 'T', '--json', 'c-1'], io, 'HELP TEXT', options);
    expect(parsed).toEqual({ values: { table: 'T', json: true }, positionals: ['c-1'] });
    expect(io.out + io.err).toBe('');
  });

  it.each([['--help'], ['-h']])('%s prints the help on stdout and exits 0', (flag) => {
    const io = capture();
    expect(commandArgs([flag], io, 'HELP TEXT', options)).toEqual({ exit: 0 });
    expect(io.out).toBe('HELP TEXT');
    expect(io.err).toBe('');
  });

  it('an unknown flag is named on stderr with the help, exit 2', () => {
    const io = capture();
    expect(commandArgs(['--tabel', 'T'], io, 'HELP TEXT', options)).toEqual({ exit: 2 });
    expect(io.err).toMatch(/^clm: .*'--tabel'/);
    expect(io.err.endsWith('\n\nHELP TEXT')).toBe(true);
    expect(io.out).toBe('');
  });

  it('a flag without its value is an error', () => {
    const io = capture();
    expect(commandArgs(['--table'], io, 'HELP TEXT', options)).toEqual({ exit: 2 });
    expect(io.err).toMatch(/--table/);
  });

  it('refuses positionals when the command takes none', () => {
    const io = capture();
    expect(commandArgs(['stray'], io, 'HELP TEXT', options, false)).toEqual({ exit: 2 });
    expect(io.err).toMatch(/stray/);
  });
});

describe('the table commands parse alike', () => {
  it.each([
    ['customer', customerCommand],
    ['consent', consentCommand],
  ] as const)('clm %s: --help exits 0, an unknown flag exits 2', async (name, command) => {
    const help = capture();
    expect(await command(['--help'], help)).toBe(0);
    expect(help.out).toMatch(new RegExp(`^clm ${name}`));
    const bad = capture();
    expect(await command(['--nope', 'c-1'], bad)).toBe(2);
    expect(bad.err).toMatch(/^clm: .*'--nope'/);
  });

  it('clm winback-report takes no positional argument', async () => {
    const io = capture();
    expect(await winbackReportCommand(['2026-01'], io)).toBe(2);
    expect(io.err).toMatch(/^clm: /);
  });
});
