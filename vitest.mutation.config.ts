/**
 * The vitest run Stryker uses for mutation testing (`npm run mutate`): only the fast tests that
 * exercise the domain (no DynamoDB Local, no Java, no emulators, no CDK synth), so each mutant
 * costs a fraction of a second. See docs/testing.md.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/unit/**/*.test.ts', 'test/local/event-pattern.test.ts'],
    // The scoring tests fit models on the CDNOW sample, which lives outside the repository
    // (the sandbox Stryker copies the project into cannot see it); scoring is not in the mutated scope.
    exclude: ['test/unit/scoring/**'],
    maxWorkers: 1,
  },
});
