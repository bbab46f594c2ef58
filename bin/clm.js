#!/usr/bin/env node
// clm — customer lifetime value command line. Runs the TypeScript sources through tsx
// so that it works on Node 20 and 24 without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/clm.ts');
