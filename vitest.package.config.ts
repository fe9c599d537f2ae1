import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:package`: the packed tarball, installed into a Nest 12 (ESM, Vitest)
 * and a Nest 11 (CommonJS, Jest) app shaped like `nest new` makes them, with the
 * README's snippets copied in. Needs the npm registry or a warm cache.
 */
// Spread, not mergeConfig: mergeConfig would concatenate the include/exclude lists.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/package/**/*.spec.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
  },
});
