/**
 * The arguments of a `clm` subcommand, parsed as every subcommand parses them: strictly (an
 * unknown flag or a missing value is an error), with `-h`/`--help` added. A parse error prints
 * `clm: <reason>` and the command's help on stderr (exit code 2); `--help` prints the help on
 * stdout (exit code 0). Either way the command returns `exit` at once.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Io } from './main.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

export function commandArgs<const O extends Options, const P extends boolean = true>(
  argv: string[],
  io: Io,
  help: string,
  options: O,
  allowPositionals: P = true as P,
) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, strict: true, allowPositionals, options: { ...options, ...HELP_OPTION } });
  } catch (e) {
    io.stderr(`clm: ${(e as Error).message}\n\n${help}`);
    return { exit: 2 } as const;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout(help);
    return { exit: 0 } as const;
  }
  return parsed;
}
