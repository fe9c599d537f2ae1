#!/usr/bin/env node
// `npm run bench [-- --quick] [--out <file>] [--only S1,S3] [--profile]
//                [--experiment early-in-progress,async-status,release-finished] [--concurrency N] [--node-flags=…] [--floor]`
//
// Builds the library (`npm run build` → dist/), compiles bench/ to .tmp/bench (it
// imports the library as `nestjs-tenancy`, i.e. from dist/ through the package's
// own exports, exactly as a consumer would), then runs it. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function run(label, command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`bench: ${label} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`);
    process.exit(result.status || 1);
  }
}

run('npm run build', process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build']);
rmSync(resolve(root, '.tmp/bench'), { recursive: true, force: true });
run('bench compile (tsc -p bench/tsconfig.json)', process.execPath, [
  resolve(root, 'node_modules/typescript/bin/tsc'),
  '-p',
  'bench/tsconfig.json',
]);
const bench = spawnSync(process.execPath, [resolve(root, '.tmp/bench/main.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(bench.status ?? 1);
