/** Entry point of the `clm` command (see bin/clm.js). */
import { main } from './main.ts';

process.exitCode = main(process.argv.slice(2));
