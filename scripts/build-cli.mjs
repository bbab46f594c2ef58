/**
 * Build dist/clm.mjs: the clm command line (cli/clm.ts) as one ESM bundle, so that `clm`
 * starts without transpiling TypeScript (bin/clm.js falls back to tsx when the bundle is
 * missing or older than any file it was built from, listed in dist/clm.inputs.json).
 * Runs on `npm ci` / `npm install` (the `prepare` script) and as `npm run build:cli`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Bundle cli/clm.ts into `outdir` (default dist/); returns the bundle's path. */
export async function buildCli(outdir = path.join(root, 'dist')) {
  const { build } = await import('esbuild');
  mkdirSync(outdir, { recursive: true });
  const outfile = path.join(outdir, 'clm.mjs');
  const result = await build({
    entryPoints: [path.join(root, 'cli/clm.ts')],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    metafile: true,
    logLevel: 'warning',
    // CommonJS dependencies bundled into ESM may call require()
    banner: { js: "import { createRequire as __clmCreateRequire } from 'node:module';\nconst require = __clmCreateRequire(import.meta.url);" },
  });
  const inputs = Object.keys(result.metafile.inputs).map((f) => path.relative(root, path.resolve(root, f)));
  writeFileSync(path.join(outdir, 'clm.inputs.json'), `${JSON.stringify(inputs)}\n`);
  return outfile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const out = await buildCli();
    console.log(`built ${path.relative(root, out)}`);
  } catch (e) {
    // never fail an install over it (e.g. no devDependencies): clm then runs the sources through tsx
    const why = e?.code === 'ERR_MODULE_NOT_FOUND' ? 'esbuild is not installed' : String(e?.message ?? e);
    console.log(`dist/clm.mjs not built (${why}); clm will run the TypeScript sources through tsx`);
    if (!process.env.npm_lifecycle_event?.startsWith('prepare')) process.exitCode = 1;
  }
}
