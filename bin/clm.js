#!/usr/bin/env node
// clm — customer lifetime value command line. Runs the prebuilt bundle dist/clm.mjs
// (`npm run build:cli`, also run by `npm ci` through `prepare`) when it is up to date with
// the sources; otherwise the TypeScript sources through tsx (slower start-up, works on Node
// 20 and 24 without a build step). CLM_NO_BUNDLE=1 forces the sources.
import { freshBundle } from './launch.mjs';

const bundle = freshBundle();
if (bundle) await import(bundle);
else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/clm.ts');
}
