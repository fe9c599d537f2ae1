#!/usr/bin/env node
// `npm run build`: the library twice from the same sources.
//   dist/esm  ← tsc -p tsconfig.build.json      (import)
//   dist/cjs  ← tsc -p tsconfig.build.cjs.json  (require, Jest/ts-jest in CommonJS apps)
// Each folder gets its own package.json {"type"} so Node and TypeScript read its
// .js and .d.ts files in the right module format. Plain Node, no dependencies.
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const BUILDS = [
  { project: 'tsconfig.build.json', outDir: 'dist/esm', type: 'module' },
  { project: 'tsconfig.build.cjs.json', outDir: 'dist/cjs', type: 'commonjs' },
];

rmSync(join(root, 'dist'), { recursive: true, force: true });
for (const { project, outDir, type } of BUILDS) {
  const result = spawnSync(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`[build] tsc -p ${project} failed`);
    process.exit(result.status ?? 1);
  }
  writeFileSync(join(root, outDir, 'package.json'), `${JSON.stringify({ type }, null, 2)}\n`);
  // npm sets the bin's mode on install; this keeps the built file runnable in place too.
  chmodSync(join(root, outDir, 'testing', 'emulator.bin.js'), 0o755);
}
