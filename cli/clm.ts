/** Entry point of the `clm` command (see bin/clm.js). */
import { main } from './main.ts';

const argv = process.argv.slice(2);
if (argv[0] === 'customer') {
  // Loaded only when asked for: the model commands start without the AWS SDK.
  const { customerCommand } = await import('./customer.ts');
  process.exitCode = await customerCommand(argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
} else if (argv[0] === 'report') {
  const { reportCommand } = await import('./report.ts');
  process.exitCode = await reportCommand(argv.slice(1), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
} else {
  process.exitCode = main(argv);
}
