#!/usr/bin/env node
// `npm start`: build the library and the sample app, then run the sample app.
// Plain Node, no dependencies: works on a fresh clone after `npm ci`.
//
//   1. tsc -p tsconfig.build.json         → dist/ (what 'nestjs-tenancy' resolves to)
//   2. tsc -p sample-app/tsconfig.json    → sample-app/dist/
//   3. node sample-app/dist/main.js       (env passed through: PORT, DATA_DIR, TENANT_MANAGER_URL, …)
//
// SIGINT/SIGTERM are forwarded to the running step. Exit code: the app's own;
// 0 when a stop was requested and the step went down without reporting a failure.
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const SIGNALS = ['SIGINT', 'SIGTERM'];

/** The running child, to forward signals to. */
let current;
/** The signal that asked us to stop, if any. */
let stopSignal;

for (const signal of SIGNALS) {
  process.on(signal, () => {
    // A terminal's Ctrl-C reaches the whole process group, the child included;
    // forwarding a second SIGINT is harmless (Nest ignores repeats while closing).
    stopSignal ??= signal;
    current?.kill(signal);
  });
}

/** Runs `node <args>` in the repo root with inherited stdio; resolves to its exit code and signal. */
function run(label, args) {
  console.log(`[start] ${label}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
    current = child;
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      current = undefined;
      resolve({ code, signal });
    });
  });
}

/** Exit code for a child's end: its code, else 128 + signal number (shell convention). */
function exitCodeOf({ code, signal }) {
  if (code !== null) return code;
  return 128 + (constants.signals[signal] ?? 0);
}

async function main() {
  const steps = [
    ['building the library (tsc -p tsconfig.build.json)', [tsc, '-p', 'tsconfig.build.json']],
    ['building the sample app (tsc -p sample-app/tsconfig.json)', [tsc, '-p', join('sample-app', 'tsconfig.json')]],
  ];
  // Start from a clean output so a file removed from sample-app/src cannot linger.
  await rm(join(root, 'sample-app', 'dist'), { recursive: true, force: true });
  for (const [label, args] of steps) {
    if (stopSignal) return 0;
    const result = await run(label, args);
    if (stopSignal) return 0;
    if (result.code !== 0) {
      console.error(`[start] ${label.split(' (')[0]} failed`);
      return exitCodeOf(result);
    }
  }
  if (stopSignal) return 0;
  const result = await run('starting the sample app (node sample-app/dist/main.js)', [
    '--enable-source-maps',
    join('sample-app', 'dist', 'main.js'),
  ]);
  // Stopped on request and went down on the signal itself: that is a clean stop too.
  if (stopSignal && result.signal === stopSignal) return 0;
  return exitCodeOf(result);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
