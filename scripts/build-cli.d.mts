/** Bundle cli/clm.ts into `outdir` (default dist/); returns the bundle's path. */
export function buildCli(outdir?: string): Promise<string>;
