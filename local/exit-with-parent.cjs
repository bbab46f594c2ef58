/**
 * Preloaded (`node --require`) into the local stack's Node child processes
 * (the SES emulator): the parent gives the child a pipe as stdin and never
 * writes to it, so end of file means the parent is gone, however it ended
 * (even SIGKILL), and the child exits with it. See local/services.ts.
 */
'use strict';
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
