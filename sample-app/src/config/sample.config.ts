import { resolve } from 'node:path';

/** What {@link SampleConfig} is built from; every field but the ones shown has a default. */
export interface SampleConfigInit {
  /** Tenant Manager base URL; when absent, `main.ts` starts the emulator in-process. */
  readonly tenantManagerUrl?: string;
  readonly controllerName?: string;
  readonly dataDir?: string;
  readonly port?: number;
  readonly host?: string;
  readonly emulatorPort?: number;
  /** Embedded emulator only: log one line per request it serves. */
  readonly emulatorVerbose?: boolean;
  readonly pollInterval?: number;
}

/** Defaults, in one place. */
export const SAMPLE_DEFAULTS = {
  controllerName: 'sample-controller',
  dataDir: './sample-app/data',
  port: 3000,
  // Loopback by default: a sample should not open a port to the network by surprise.
  host: '127.0.0.1',
  emulatorPort: 8080,
  // The library's default is 5 s (the Go client's). One second makes the demo feel
  // live when you drive it with curl; a real controller rarely needs it that fast.
  pollInterval: 1000,
} as const;

/**
 * The sample's settings, injectable by class. Tests build one directly
 * (`new SampleConfig({ tenantManagerUrl, dataDir })`); `main.ts` reads the env.
 */
export class SampleConfig {
  readonly tenantManagerUrl: string | undefined;
  readonly controllerName: string;
  /** Absolute path of the directory that holds one workspace per org. */
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly emulatorPort: number;
  readonly emulatorVerbose: boolean;
  readonly pollInterval: number;

  constructor(init: SampleConfigInit = {}) {
    this.tenantManagerUrl = init.tenantManagerUrl;
    this.controllerName = init.controllerName ?? SAMPLE_DEFAULTS.controllerName;
    this.dataDir = resolve(init.dataDir ?? SAMPLE_DEFAULTS.dataDir);
    this.port = init.port ?? SAMPLE_DEFAULTS.port;
    this.host = init.host ?? SAMPLE_DEFAULTS.host;
    this.emulatorPort = init.emulatorPort ?? SAMPLE_DEFAULTS.emulatorPort;
    this.emulatorVerbose = init.emulatorVerbose ?? false;
    this.pollInterval = init.pollInterval ?? SAMPLE_DEFAULTS.pollInterval;
  }

  /**
   * From `TENANT_MANAGER_URL`, `CONTROLLER_NAME`, `DATA_DIR` (relative to `cwd`),
   * `PORT`, `HOST`, `EMULATOR_PORT`, `EMULATOR_VERBOSE` (`1`). Empty variables count as unset.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): SampleConfig {
    const text = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
    const dataDir = text('DATA_DIR');
    return new SampleConfig({
      tenantManagerUrl: text('TENANT_MANAGER_URL'),
      controllerName: text('CONTROLLER_NAME'),
      dataDir: resolve(cwd, dataDir ?? SAMPLE_DEFAULTS.dataDir),
      port: portFrom('PORT', text('PORT')),
      host: text('HOST'),
      emulatorPort: portFrom('EMULATOR_PORT', text('EMULATOR_PORT')),
      emulatorVerbose: text('EMULATOR_VERBOSE') === '1',
    });
  }
}

function portFrom(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(port <= 65535)) throw new Error(`${name} must be a port number from 0 to 65535, got "${value}"`);
  return port;
}
