import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const fromRoot = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * `npm test`: the fast tier, unit + e2e, in-process against loopback fakes.
 * The slow tiers have their own configs and scripts (see CONTRIBUTING.md):
 *   vitest.package.config.ts  npm run test:package  the packed tarball in Nest 11/12 template apps
 *   vitest.smoke.config.ts    npm run test:smoke    `npm start` and `npm run bench -- --quick`
 */
export default defineConfig({
  // Nest needs legacy decorators plus `design:paramtypes` metadata for constructor
  // injection. Said explicitly here rather than inferred from tsconfig, and guarded
  // by test/unit/decorator-metadata.canary.spec.ts.
  oxc: {
    decorator: { legacy: true, emitDecoratorMetadata: true },
  },
  resolve: {
    alias: {
      'nestjs-tenancy/testing': fromRoot('./src/testing/index.ts'),
      'nestjs-tenancy/terminus': fromRoot('./src/terminus/index.ts'),
      'nestjs-tenancy': fromRoot('./src/index.ts'),
    },
  },
  test: {
    include: ['test/unit/**/*.spec.ts', 'test/e2e/**/*.spec.ts'],
    exclude: ['**/node_modules/**', '**/*.smoke.spec.ts'],
    setupFiles: ['reflect-metadata'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Every test has its own servers on random loopback ports, but two cores are
    // all we have: keep the worker count modest so timing-sensitive e2e stays sane.
    maxWorkers: 2,
  },
});
