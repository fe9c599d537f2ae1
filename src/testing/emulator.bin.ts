#!/usr/bin/env node
// The `nestjs-tenancy-emulator` executable. Kept apart from emulator.cli.ts so that
// no library module needs to know whether it is the main script (no module URL):
// the same file works from the ESM and the CommonJS build.
import { emulatorMain } from './emulator.cli.js';

void emulatorMain(process.argv.slice(2)).then((result) => {
  if (typeof result === 'number') {
    process.exitCode = result;
    return;
  }
  const shutdown = (): void => {
    void result.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
});
