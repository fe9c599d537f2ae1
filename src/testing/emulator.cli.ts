// The emulator's command line, as functions: parse, run, main. The executable is
// emulator.bin.ts; importing this module runs nothing.
import { parseArgs } from 'node:util';
import { seedDemo } from './demo-seed.js';
import { readStateFile, writeStateFile } from './emulator-state.file.js';
import { FakeTenantManager, tenantStoreOf } from './fake-tenant-manager.js';

/** Named data sets for `--seed`. */
const SEEDS: Readonly<Record<string, (fake: FakeTenantManager) => void>> = { demo: seedDemo };

const PROGRAM = 'nestjs-tenancy-emulator';
/** Standalone default: a local service should hard-delete like the real one does. */
const DEFAULT_CLEANUP_INTERVAL_MS = 1000;
/** How often `--data` checks for changes to write: a restart loses at most this much. */
const SAVE_INTERVAL_MS = 200;

/** Settings of a standalone emulator, as parsed from the command line. */
export interface EmulatorOptions {
  readonly port: number;
  readonly host: string;
  readonly controllers: { readonly org: readonly string[]; readonly project: readonly string[] };
  /** A key of the seed table (`demo`). */
  readonly seed?: string;
  readonly token?: string;
  readonly defaultOrg?: string;
  readonly cleanupInterval: number | false;
  readonly eventRetention: number | false;
  /** `--data FILE`: state kept across restarts. */
  readonly dataFile?: string;
  /** `--verbose`: one log line per request. */
  readonly verbose: boolean;
}

/** What the command line asks for: the usage text, or to run with these options. */
export type EmulatorCommand =
  | { readonly help: true }
  | { readonly help: false; readonly options: EmulatorOptions };

/** A bad command line; the CLI prints the message and exits with code 2. */
export class EmulatorUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmulatorUsageError';
  }
}

/** The `--help` text. */
export const EMULATOR_USAGE = `Usage: ${PROGRAM} [options]

Runs an in-memory Tenant Manager: /v1/events, /v1/status and the public
/v1/orgs and /v1/projects API, on one port.

Options:
  --port <n>               port to listen on (default 8080; 0 picks a free one)
  --host <address>         address to bind (default 127.0.0.1)
  --controllers <list>     registered controllers, comma-separated; prefix a name
                           with org: or project: to register it for one type only
  --seed <name>            preload data; "demo" = org demo with projects alpha,
                           beta, gamma
  --token <secret>         require X-Internal-Token on /v1/events and /v1/status
  --default-org <name>     org for PUT /v1/projects/{name} without ?org
  --cleanup-interval <ms>  hard-delete sweep period (default ${DEFAULT_CLEANUP_INTERVAL_MS}; 0 disables)
  --event-retention <ms>   prune events older than this (default 0: keep all)
  --data <file>            keep state and event log in this JSON file across
                           restarts (event ids continue); --seed applies only
                           when the file does not exist yet
  --verbose                log one line per request
  -h, --help               show this help`;

/** Parses the emulator's arguments (without `node` and the script); throws {@link EmulatorUsageError}. */
export function parseEmulatorArgs(argv: readonly string[]): EmulatorCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        controllers: { type: 'string' },
        seed: { type: 'string' },
        token: { type: 'string' },
        'default-org': { type: 'string' },
        'cleanup-interval': { type: 'string' },
        'event-retention': { type: 'string' },
        data: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new EmulatorUsageError(describeParseError(error));
  }
  if (values['help'] === true) return { help: true };

  const text = (name: string): string | undefined => values[name] as string | undefined;
  const seed = text('seed');
  if (seed !== undefined && !Object.hasOwn(SEEDS, seed)) {
    throw new EmulatorUsageError(`unknown seed "${seed}" (known: ${Object.keys(SEEDS).join(', ')})`);
  }
  const host = text('host') ?? '127.0.0.1';
  if (host === '') throw new EmulatorUsageError('--host must not be empty');
  return {
    help: false,
    options: {
      port: integerArg('--port', text('port'), 8080, 65535),
      host,
      controllers: parseControllers(text('controllers') ?? ''),
      seed,
      token: nonEmpty('--token', text('token')),
      defaultOrg: nonEmpty('--default-org', text('default-org')),
      cleanupInterval: integerArg('--cleanup-interval', text('cleanup-interval'), DEFAULT_CLEANUP_INTERVAL_MS) || false,
      eventRetention: integerArg('--event-retention', text('event-retention'), 0) || false,
      dataFile: nonEmpty('--data', text('data')),
      verbose: values['verbose'] === true,
    },
  };
}

/** A started emulator. */
export interface RunningEmulator {
  readonly fake: FakeTenantManager;
  readonly url: string;
  /** Stops the server and writes the state file one last time (idempotent). */
  stop(): Promise<void>;
}

/**
 * Restores or seeds, starts and announces an emulator. Everything it says goes
 * through `print`, one line each: the URL, a curl hint, warnings, and with
 * `verbose` one line per request.
 */
export async function runEmulator(
  options: EmulatorOptions,
  print: (line: string) => void = (line) => console.log(line),
): Promise<RunningEmulator> {
  const fake = new FakeTenantManager({
    internalToken: options.token,
    controllers: options.controllers,
    defaultOrg: options.defaultOrg,
    cleanupInterval: options.cleanupInterval,
    eventRetention: options.eventRetention,
    logRequests: options.verbose ? print : undefined,
    recordRequests: false,
  });
  const persistence = options.dataFile === undefined ? undefined : restoreOrSeed(fake, options, options.dataFile, print);
  if (persistence === undefined && options.seed !== undefined) SEEDS[options.seed]?.(fake);
  let url: string;
  try {
    url = await fake.start(options.port, options.host);
  } catch (error) {
    persistence?.stop();
    throw error;
  }
  print(`${PROGRAM} listening on ${url}`);
  print(usageHint(url, options));
  if (options.controllers.org.length === 0 && options.controllers.project.length === 0) {
    print(
      'warning: no --controllers registered, so every org and project status reads IDLE at once and deleted ' +
        'resources are hard-deleted without waiting; pass --controllers <your controller name>',
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    fake,
    url,
    stop: () =>
      (stopping ??= fake.stop().then(() => {
        persistence?.stop();
      })),
  };
}

/** Writes the store to the file whenever it changed; `stop()` writes a last time. */
interface Persistence {
  stop(): void;
}

function restoreOrSeed(
  fake: FakeTenantManager,
  options: EmulatorOptions,
  file: string,
  print: (line: string) => void,
): Persistence {
  const store = tenantStoreOf(fake);
  const saved = readStateFile(file);
  if (saved === undefined) {
    if (options.seed !== undefined) SEEDS[options.seed]?.(fake);
    print(`state file ${file} does not exist yet: starting ${options.seed === undefined ? 'empty' : `from seed "${options.seed}"`}`);
  } else {
    try {
      store.restore(saved);
    } catch (error) {
      throw new Error(`cannot use state file ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    print(
      `restored ${saved.orgs.length} orgs, ${saved.projects.length} projects and ${saved.events.length} events ` +
        `(last event id ${saved.lastEventId}) from ${file}` +
        (options.seed === undefined ? '' : `; --seed ${options.seed} is ignored`),
    );
  }
  let written = -1;
  let failing = false;
  const save = (): void => {
    if (store.revision === written) return;
    try {
      writeStateFile(file, store.snapshot());
      written = store.revision;
      failing = false;
    } catch (error) {
      // Keep serving; say so once per failing stretch, not every tick.
      if (!failing) print(`warning: cannot write state file ${file}: ${error instanceof Error ? error.message : String(error)}`);
      failing = true;
    }
  };
  save();
  const timer = setInterval(save, SAVE_INTERVAL_MS).unref();
  return {
    stop: () => {
      clearInterval(timer);
      save();
    },
  };
}

/** Where the CLI writes. */
export interface EmulatorIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const consoleIo: EmulatorIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/**
 * The whole CLI minus signals: resolves to an exit code (0 help, 2 usage error,
 * 1 cannot listen) or to the running emulator.
 */
export async function emulatorMain(argv: readonly string[], io: EmulatorIo = consoleIo): Promise<RunningEmulator | number> {
  let command: EmulatorCommand;
  try {
    command = parseEmulatorArgs(argv);
  } catch (error) {
    if (!(error instanceof EmulatorUsageError)) throw error;
    io.err(`${PROGRAM}: ${error.message}`);
    io.err(`Run ${PROGRAM} --help for usage.`);
    return 2;
  }
  if (command.help) {
    io.out(EMULATOR_USAGE);
    return 0;
  }
  try {
    return await runEmulator(command.options, io.out);
  } catch (error) {
    io.err(`${PROGRAM}: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

function usageHint(url: string, options: EmulatorOptions): string {
  const controller = options.controllers.project[0] ?? options.controllers.org[0] ?? 'my-controller';
  // A placeholder, never the secret itself: terminals and CI logs are kept.
  const header = options.token === undefined ? '' : `-H 'X-Internal-Token: <the --token value>' `;
  return `try: curl -s ${header}'${url}/v1/events?controller=${encodeURIComponent(controller)}&replay=true'`;
}

function parseControllers(list: string): EmulatorOptions['controllers'] {
  const org: string[] = [];
  const project: string[] = [];
  for (const entry of list.split(',').map((item) => item.trim())) {
    if (entry === '') continue;
    const [, type, name] = /^(org|project):(.*)$/.exec(entry) ?? [undefined, undefined, entry];
    if (name === undefined || name === '') throw new EmulatorUsageError(`--controllers: empty name in "${entry}"`);
    if (type !== 'project') org.push(name);
    if (type !== 'org') project.push(name);
  }
  return { org, project };
}

function integerArg(flag: string, value: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed <= max)) throw new EmulatorUsageError(`${flag} must be an integer from 0 to ${max}, got "${value}"`);
  return parsed;
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === '') throw new EmulatorUsageError(`${flag} must not be empty`);
  return value;
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // Node's text goes on about positionals; the option name is what matters.
    const option = /'([^']+)'/.exec(message)?.[1];
    return `unknown option ${option ?? message}`;
  }
  return message;
}
