import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:smoke`: whole-program runs that build into dist/ (`npm start` of the
 * sample app, `npm run bench -- --quick`). Slow, so not part of `npm test`.
 */
// Spread, not mergeConfig: mergeConfig would concatenate the include/exclude lists.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/**/*.smoke.spec.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Each spec builds the library; one at a time keeps them off each other's dist/.
    maxWorkers: 1,
  },
});
