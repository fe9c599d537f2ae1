// `--data FILE`: the emulator's state on disk, so a restart keeps its orgs, projects,
// status rows and event log, and event ids continue where they stopped.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { StoreSnapshot } from './tenant-store.js';

/** A state file that exists but cannot be used; the message names the file and the problem. */
export class EmulatorStateError extends Error {
  constructor(file: string, problem: string) {
    super(`cannot use state file ${file}: ${problem}`);
    this.name = 'EmulatorStateError';
  }
}

/** The snapshot in `file`, or undefined when there is no such file (a first run). */
export function readStateFile(file: string): StoreSnapshot | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EmulatorStateError(file, error instanceof Error ? error.message : String(error));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new EmulatorStateError(file, `not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const problem = shapeProblem(parsed);
  if (problem !== undefined) throw new EmulatorStateError(file, problem);
  return parsed as StoreSnapshot;
}

/**
 * Writes `snapshot` to `file` atomically: a temporary file next to it, then a
 * rename, so a crash mid-write leaves the previous state, never half a file.
 */
export function writeStateFile(file: string, snapshot: StoreSnapshot): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(snapshot)}\n`);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Why `value` is not a version-1 snapshot, or undefined when it is one. */
function shapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'expected a JSON object';
  const record = value as Record<string, unknown>;
  if (record['version'] !== 1) return `unsupported version ${JSON.stringify(record['version'])} (expected 1)`;
  for (const key of ['orgs', 'projects', 'deletedOrgIds', 'deletedProjectIds', 'events', 'eventTimes', 'statusRows']) {
    if (!Array.isArray(record[key])) return `"${key}" must be an array`;
  }
  if (!Number.isSafeInteger(record['lastEventId']) || (record['lastEventId'] as number) < 0) {
    return '"lastEventId" must be a non-negative integer';
  }
  if ((record['events'] as unknown[]).length !== (record['eventTimes'] as unknown[]).length) {
    return '"events" and "eventTimes" must have the same length';
  }
  return undefined;
}
