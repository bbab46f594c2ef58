/** Entry point of the `clm` command (see bin/clm.js). */
import { main } from './main.ts';

const argv = process.argv.slice(2);
const io = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
// The table commands are loaded only when asked for: the model commands start without the AWS SDK.
if (argv[0] === 'customer') {
  const { customerCommand } = await import('./customer.ts');
  process.exitCode = await customerCommand(argv.slice(1), io);
} else if (argv[0] === 'report') {
  const { reportCommand } = await import('./report.ts');
  process.exitCode = await reportCommand(argv.slice(1), io);
} else if (argv[0] === 'backfill') {
  const { backfillCommand } = await import('./backfill.ts');
  process.exitCode = await backfillCommand(argv.slice(1), io);
} else if (argv[0] === 'consent') {
  const { consentCommand } = await import('./consent.ts');
  process.exitCode = await consentCommand(argv.slice(1), io);
} else if (argv[0] === 'erase') {
  const { eraseCommand } = await import('./erase.ts');
  process.exitCode = await eraseCommand(argv.slice(1), io);
} else if (argv[0] === 'winback-report') {
  const { winbackReportCommand } = await import('./winback-report.ts');
  process.exitCode = await winbackReportCommand(argv.slice(1), io);
} else {
  process.exitCode = main(argv);
}
