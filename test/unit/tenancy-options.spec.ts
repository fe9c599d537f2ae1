import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveTenancyOptions } from '../../src/tenancy-options.resolver.js';
import type { TenancyModuleOptions } from '../../src/tenancy-options.js';
import { TenancyConfigurationError } from '../../src/tenancy.errors.js';
import { invalidOption, unknownOption } from '../../src/tenancy.messages.js';

const URL_ENV = 'TENANT_MANAGER_URL';
const TOKEN_ENV = 'TENANT_MANAGER_INTERNAL_TOKEN';
const base = { url: 'http://tenancy-manager.orch-iam:8080', controllerName: 'app-orch-tenant-controller' };
const noEnv: NodeJS.ProcessEnv = {};

/** The error thrown by resolveTenancyOptions; fails the test when nothing is thrown. */
function configError(options: unknown, env: NodeJS.ProcessEnv = noEnv): TenancyConfigurationError {
  let thrown: unknown;
  try {
    resolveTenancyOptions(options as TenancyModuleOptions, env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(TenancyConfigurationError);
  return thrown as TenancyConfigurationError;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('resolveTenancyOptions: defaults', () => {
  it('fills every default', () => {
    const resolved = resolveTenancyOptions(base, noEnv);
    expect(resolved).toEqual({
      url: 'http://tenancy-manager.orch-iam:8080',
      controllerName: 'app-orch-tenant-controller',
      pollInterval: 5_000,
      pollLimit: 100,
      initialBackoff: 1_000,
      maxBackoff: 30_000,
      httpTimeout: 30_000,
      maxResponseBytes: 512 * 1024 * 1024,
      transport: 'node',
      autoStart: true,
      shutdownTimeout: 10_000,
      concurrency: 8,
      maxQueuedEvents: 10_000,
      internalToken: undefined,
      handlerTimeout: undefined,
      maxAttempts: undefined,
      resyncInterval: undefined,
      onError: undefined,
    });
  });

  it('treats an explicit undefined as "use the default"', () => {
    const resolved = resolveTenancyOptions(
      {
        ...base,
        pollInterval: undefined,
        pollLimit: undefined,
        initialBackoff: undefined,
        maxBackoff: undefined,
        httpTimeout: undefined,
        maxResponseBytes: undefined,
        transport: undefined,
        autoStart: undefined,
        shutdownTimeout: undefined,
        concurrency: undefined,
        maxQueuedEvents: undefined,
        handlerTimeout: undefined,
        maxAttempts: undefined,
        resyncInterval: undefined,
        internalToken: undefined,
        onError: undefined,
      },
      noEnv,
    );
    expect(resolved).toEqual(resolveTenancyOptions(base, noEnv));
    expect(resolved.pollInterval).toBe(5_000);
    expect(resolved.concurrency).toBe(8);
    expect(resolved.autoStart).toBe(true);
  });

  it('keeps explicit values, including autoStart false and the optional fields', () => {
    const onError = vi.fn();
    const given = {
      ...base,
      pollInterval: 1,
      pollLimit: 1_000,
      initialBackoff: 7,
      maxBackoff: 7,
      httpTimeout: 2,
      maxResponseBytes: 8,
      transport: 'axios' as const,
      autoStart: false,
      shutdownTimeout: 3,
      concurrency: 1,
      maxQueuedEvents: 1,
      handlerTimeout: 4,
      maxAttempts: 5,
      resyncInterval: 6,
      internalToken: 's3cret',
      onError,
    };
    const resolved = resolveTenancyOptions(given, noEnv);
    // Every field was given explicitly: nothing is defaulted, nothing changed.
    expect(resolved).toEqual(given);
    expect(resolved.onError).toBe(onError);
  });

  it('returns a frozen object', () => {
    const resolved = resolveTenancyOptions(base, noEnv);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(() => {
      (resolved as { pollLimit: number }).pollLimit = 5;
    }).toThrow(TypeError);
    expect(resolved.pollLimit).toBe(100);
  });

  it('does not modify the options it was given', () => {
    const options = { ...base, url: 'http://h/' };
    resolveTenancyOptions(options, noEnv);
    expect(options).toEqual({ ...base, url: 'http://h/' });
    expect(Object.isFrozen(options)).toBe(false);
  });
});

describe('resolveTenancyOptions: url and token from the environment', () => {
  it('falls back to TENANT_MANAGER_URL when url is absent or undefined', () => {
    const env = { [URL_ENV]: 'http://from-env:8080' };
    expect(resolveTenancyOptions({ controllerName: 'c' }, env).url).toBe('http://from-env:8080');
    expect(resolveTenancyOptions({ controllerName: 'c', url: undefined }, env).url).toBe('http://from-env:8080');
  });

  it('prefers an explicit url over the environment', () => {
    const env = { [URL_ENV]: 'http://from-env:8080' };
    expect(resolveTenancyOptions({ controllerName: 'c', url: 'https://explicit' }, env).url).toBe('https://explicit');
  });

  it('falls back to TENANT_MANAGER_INTERNAL_TOKEN when internalToken is absent', () => {
    const env = { [TOKEN_ENV]: 'env-secret' };
    expect(resolveTenancyOptions(base, env).internalToken).toBe('env-secret');
    expect(resolveTenancyOptions({ ...base, internalToken: undefined }, env).internalToken).toBe('env-secret');
  });

  it('prefers an explicit internalToken over the environment', () => {
    const env = { [TOKEN_ENV]: 'env-secret' };
    expect(resolveTenancyOptions({ ...base, internalToken: 'explicit-secret' }, env).internalToken).toBe(
      'explicit-secret',
    );
  });

  it('treats an empty TENANT_MANAGER_INTERNAL_TOKEN as absent', () => {
    const resolved = resolveTenancyOptions(base, { [TOKEN_ENV]: '' });
    expect(resolved.internalToken).toBeUndefined();
  });

  it('reads process.env when no env is passed', () => {
    vi.stubEnv(URL_ENV, 'http://process-env:1234/');
    vi.stubEnv(TOKEN_ENV, 'process-secret');
    const resolved = resolveTenancyOptions({ controllerName: 'c' });
    expect(resolved.url).toBe('http://process-env:1234');
    expect(resolved.internalToken).toBe('process-secret');
  });

  it('strips trailing slashes from the url (option or env)', () => {
    expect(resolveTenancyOptions({ ...base, url: 'http://h:8080/' }, noEnv).url).toBe('http://h:8080');
    expect(resolveTenancyOptions({ ...base, url: 'http://h:8080/base///' }, noEnv).url).toBe('http://h:8080/base');
    expect(resolveTenancyOptions({ controllerName: 'c' }, { [URL_ENV]: 'https://e/' }).url).toBe('https://e');
  });

  it('accepts http and https URLs', () => {
    expect(resolveTenancyOptions({ ...base, url: 'https://secure.example' }, noEnv).url).toBe('https://secure.example');
    expect(resolveTenancyOptions({ ...base, url: 'http://127.0.0.1:9' }, noEnv).url).toBe('http://127.0.0.1:9');
  });
});

describe('resolveTenancyOptions: invalid options', () => {
  it.each([null, undefined, 'http://h', 42, true])('rejects options that are not an object (%s)', (options) => {
    const error = configError(options);
    const shown = typeof options === 'string' ? JSON.stringify(options) : String(options);
    expect(error.message).toBe(`TenancyModule options must be an object (got ${shown})`);
  });

  it.each([
    ['pollLimit', 0, 'must be between 1 and 1000'],
    ['pollLimit', 1_001, 'must be between 1 and 1000 (the Tenant Manager rejects more)'],
    ['pollLimit', 1.5, 'must be an integer'],
    ['pollLimit', -3, 'must be between 1 and 1000'],
    ['pollInterval', 0, 'must be positive'],
    ['pollInterval', -1, 'must be positive'],
    ['pollInterval', 2.5, 'must be an integer number of milliseconds'],
    ['pollInterval', 2_147_483_648, 'must be at most 2147483647'],
    ['initialBackoff', 0, 'must be positive'],
    ['initialBackoff', -100, 'must be positive'],
    ['initialBackoff', 0.5, 'must be an integer number of milliseconds'],
    ['maxBackoff', 0, 'must be positive'],
    ['maxBackoff', 1.25, 'must be an integer number of milliseconds'],
    ['httpTimeout', 0, 'must be positive'],
    ['httpTimeout', -1, 'must be positive'],
    ['httpTimeout', 10.1, 'must be an integer number of milliseconds'],
    ['shutdownTimeout', 0, 'must be positive'],
    ['shutdownTimeout', 3.3, 'must be an integer number of milliseconds'],
    ['handlerTimeout', 0, 'must be positive'],
    ['handlerTimeout', 1.5, 'must be an integer number of milliseconds'],
    ['inProgressAfter', -1, 'must not be negative'],
    ['inProgressAfter', 2.5, 'must be an integer number of milliseconds'],
    ['resyncInterval', -5, 'must be positive'],
    ['concurrency', 0, 'must be positive'],
    ['concurrency', 2.5, 'must be an integer'],
    ['maxAttempts', 0, 'must be positive'],
    ['maxQueuedEvents', -1, 'must be positive'],
    ['maxQueuedEvents', 0.5, 'must be an integer'],
  ] as const)('rejects %s = %s', (field, value, rule) => {
    const error = configError({ ...base, [field]: value });
    expect(error.message).toBe(invalidOption(field, String(value), rule));
    expect(error.message).toContain(`"${field}"`);
    expect(error.message).toContain(`(got ${value})`);
  });

  it('rejects a numeric option given as a string, showing it quoted', () => {
    const error = configError({ ...base, pollInterval: '5000' });
    expect(error.message).toBe(invalidOption('pollInterval', '"5000"', 'must be an integer number of milliseconds'));
  });

  it('rejects a non-boolean autoStart', () => {
    const error = configError({ ...base, autoStart: 'yes' });
    expect(error.message).toBe(invalidOption('autoStart', '"yes"', 'must be a boolean'));
  });

  it('rejects a missing or empty controllerName', () => {
    expect(configError({ url: base.url }).message).toBe(invalidOption('controllerName', 'undefined', 'is required'));
    expect(configError({ ...base, controllerName: '' }).message).toBe(
      invalidOption('controllerName', '""', 'is required'),
    );
    expect(configError({ ...base, controllerName: 7 }).message).toBe(
      invalidOption('controllerName', '7', 'must be a string'),
    );
  });

  it('rejects a missing url (no option, no env), and an empty env url', () => {
    expect(configError({ controllerName: 'c' }).message).toBe(
      invalidOption('url', 'undefined', 'is required (or set TENANT_MANAGER_URL)'),
    );
    expect(configError({ controllerName: 'c' }, { [URL_ENV]: '' }).message).toBe(
      invalidOption('url', '""', 'is required (or set TENANT_MANAGER_URL)'),
    );
  });

  it.each(['ftp://files.example', 'tenancy-manager:8080/', 'not a url', 'file:///etc/passwd'])(
    'rejects a url that is not http(s): %s',
    (url) => {
      const error = configError({ ...base, url });
      expect(error.message).toBe(invalidOption('url', JSON.stringify(url), 'must be an http(s) URL'));
    },
  );

  it('rejects a non-http url coming from the environment', () => {
    const error = configError({ controllerName: 'c' }, { [URL_ENV]: 'ws://h' });
    expect(error.message).toBe(invalidOption('url', '"ws://h"', 'must be an http(s) URL'));
  });

  it('rejects initialBackoff above maxBackoff, naming both values', () => {
    const error = configError({ ...base, initialBackoff: 5_000, maxBackoff: 100 });
    expect(error.message).toBe(invalidOption('initialBackoff', '5000', 'must not exceed maxBackoff (100)'));
  });

  it('rejects the default initialBackoff above a small explicit maxBackoff', () => {
    const error = configError({ ...base, maxBackoff: 999 });
    expect(error.message).toBe(invalidOption('initialBackoff', '1000', 'must not exceed maxBackoff (999)'));
  });

  it('accepts initialBackoff equal to maxBackoff', () => {
    expect(resolveTenancyOptions({ ...base, initialBackoff: 250, maxBackoff: 250 }, noEnv).maxBackoff).toBe(250);
  });

  it.each([
    ['a string', 'log', '"log"'],
    ['an object', { call: true }, '{"call":true}'],
    ['a number', 1, '1'],
  ])('rejects onError that is %s', (_what, onError, shown) => {
    const error = configError({ ...base, onError });
    expect(error.message).toBe(invalidOption('onError', shown, 'must be a function'));
  });

  it('lists several invalid fields in one message, in schema order', () => {
    const error = configError({ ...base, pollLimit: 1.5, pollInterval: -1, httpTimeout: 0 });
    expect(error.message).toBe(
      [
        invalidOption('pollInterval', '-1', 'must be positive'),
        invalidOption('pollLimit', '1.5', 'must be an integer'),
        invalidOption('httpTimeout', '0', 'must be positive'),
      ].join('; '),
    );
  });

  it('reports every invalid field at once (url and onError included), as its TSDoc promises', () => {
    const error = configError({ ...base, url: 'ftp://h', pollLimit: 0, onError: 'log' });
    expect(error.message).toContain(invalidOption('pollLimit', '0', 'must be between 1 and 1000'));
    expect(error.message).toContain(invalidOption('url', '"ftp://h"', 'must be an http(s) URL'));
    expect(error.message).toContain(invalidOption('onError', '"log"', 'must be a function'));
  });
});

describe('resolveTenancyOptions: the token never appears in an error', () => {
  it('redacts a non-string internalToken', () => {
    const error = configError({ ...base, internalToken: 123 });
    expect(error.message).toBe(invalidOption('internalToken', '[redacted]', 'must be a string'));
    expect(error.message).not.toContain('123');
  });

  it('redacts an object internalToken', () => {
    const error = configError({ ...base, internalToken: { secret: 'hunter2-object' } });
    expect(error.message).toBe(invalidOption('internalToken', '[redacted]', 'must be a string'));
    expect(error.message).not.toContain('hunter2-object');
  });

  it('rejects an explicit empty internalToken (not absent), redacted', () => {
    const error = configError({ ...base, internalToken: '' });
    expect(error.message).toBe(invalidOption('internalToken', '[redacted]', 'must not be empty'));
  });

  it('does not mention a valid token when another field is invalid', () => {
    const secret = 'hunter2-valid-token';
    const explicit = configError({ ...base, internalToken: secret, pollLimit: 0 });
    expect(explicit.message).toBe(invalidOption('pollLimit', '0', 'must be between 1 and 1000'));
    expect(explicit.message).not.toContain(secret);
    const fromEnv = configError({ controllerName: 'c' }, { [TOKEN_ENV]: secret });
    expect(fromEnv.message).not.toContain(secret);
    expect(fromEnv.message).toBe(invalidOption('url', 'undefined', 'is required (or set TENANT_MANAGER_URL)'));
  });
});

describe('resolveTenancyOptions: coordination is validated with every other option', () => {
  const lease = { type: 'kubernetes-lease', leaseName: 'tenancy-leader' } as const;
  const coordinator = {
    identity: 'replica-a',
    acquire: async () => true,
    renew: async () => true,
    release: async () => {},
  };

  it('accepts a valid Lease config and a valid custom coordinator, kept as given', () => {
    expect(resolveTenancyOptions({ ...base, coordination: lease }, noEnv).coordination).toBe(lease);
    const custom = { ...coordinator, retryPeriod: 10, renewDeadline: 1_000 };
    expect(resolveTenancyOptions({ ...base, coordination: custom }, noEnv).coordination).toBe(custom);
  });

  it('names the Lease timing order with both values, in the same error as a bad top-level field', () => {
    const error = configError({ ...base, pollLimit: 0, coordination: { ...lease, renewDeadline: 20_000 } });
    expect(error.message).toBe(
      [
        invalidOption('pollLimit', '0', 'must be between 1 and 1000'),
        'TenancyModule option "coordination.renewDeadline" must be below leaseDuration (got 20000 ≥ 15000)',
      ].join('; '),
    );
  });

  it('names every bad Lease field, not only the first', () => {
    const error = configError({
      ...base,
      coordination: { ...lease, leaseName: '', leaseDuration: -1, retryPeriod: 12_000, kubeconfig: 7 },
    });
    expect(error.message).toBe(
      [
        invalidOption('coordination.leaseName', '""', 'must be a DNS subdomain name (lowercase, at most 253 characters)'),
        invalidOption('coordination.leaseDuration', '-1', 'must be a positive number of milliseconds'),
        invalidOption('coordination.retryPeriod', '12000 ≥ 10000', 'must be below renewDeadline'),
        invalidOption('coordination.kubeconfig', '7', 'must be a non-empty file path'),
      ].join('; '),
    );
  });

  it('checks a custom coordinator’s timings against the defaults it leaves out', () => {
    expect(configError({ ...base, coordination: { ...coordinator, renewDeadline: 1_500 } }).message).toBe(
      invalidOption('coordination.retryPeriod', '2000 ≥ 1500', 'must be below renewDeadline'),
    );
    expect(configError({ ...base, coordination: { ...coordinator, retryPeriod: 0, renewDeadline: '5s' } }).message).toBe(
      [
        invalidOption('coordination.retryPeriod', '0', 'must be a positive number of milliseconds'),
        invalidOption('coordination.renewDeadline', '"5s"', 'must be a positive number of milliseconds'),
      ].join('; '),
    );
    expect(configError({ ...base, coordination: { ...coordinator, identity: ' ', onLost: 'yes' } }).message).toBe(
      [
        invalidOption('coordination.identity', '" "', 'must be a non-empty string'),
        invalidOption('coordination.onLost', '"yes"', 'must be a function'),
      ].join('; '),
    );
  });

  it.each([
    [42, 'coordination', '42', 'must be a Kubernetes Lease config or a TenancyCoordinator'],
    [{ type: 'consul' }, 'coordination.type', '"consul"', 'has an unknown type (supported: "kubernetes-lease")'],
    [{ identity: 'x', acquire: () => true }, 'coordination', 'an object without renew(), release()', 'must implement TenancyCoordinator (identity, acquire, renew, release)'],
  ])('rejects coordination %j', (coordination, field, shown, rule) => {
    expect(configError({ ...base, coordination }).message).toBe(invalidOption(field, shown, rule));
  });
});

describe('resolveTenancyOptions: unknown keys are errors, with the closest known key', () => {
  it('suggests the option a misspelled key was meant to be, and never shows its value', () => {
    const config = { pollIntervall: 250, internalTokne: 'hunter2-typo' };
    const error = configError({ ...base, ...config });
    expect(error.message).toBe(
      [
        unknownOption('pollIntervall', 'pollInterval'),
        unknownOption('internalTokne', 'internalToken'),
      ].join('; '),
    );
    expect(error.message).toBe(
      'TenancyModule option "pollIntervall" is not a known option; did you mean "pollInterval"?; ' +
        'TenancyModule option "internalTokne" is not a known option; did you mean "internalToken"?',
    );
    expect(error.message).not.toContain('hunter2-typo');
  });

  it('matches case-insensitively, and offers nothing when no key is within two edits', () => {
    expect(configError({ ...base, MaxAttempts: 3 }).message).toBe(unknownOption('MaxAttempts', 'maxAttempts'));
    expect(configError({ ...base, timeout: 3 }).message).toBe('TenancyModule option "timeout" is not a known option');
  });

  it('reports unknown Lease keys under coordination.', () => {
    const error = configError({ ...base, coordination: { type: 'kubernetes-lease', leaseName: 'l', leaseDurations: 20_000 } });
    expect(error.message).toBe(unknownOption('coordination.leaseDurations', 'coordination.leaseDuration'));
  });

  it('lists the unknown key with the problem it causes, in one error', () => {
    const error = configError({ url: base.url, controlerName: 'c' });
    expect(error.message).toBe(
      [invalidOption('controllerName', 'undefined', 'is required'), unknownOption('controlerName', 'controllerName')].join('; '),
    );
  });

  it('knows every option of TenancyModuleOptions (no option is mistaken for an unknown key)', () => {
    const every: Required<TenancyModuleOptions> = {
      ...base,
      pollInterval: 1,
      pollLimit: 1,
      initialBackoff: 1,
      maxBackoff: 1,
      httpTimeout: 1,
      onError: () => {},
      internalToken: 't',
      autoStart: true,
      handlerTimeout: 1,
      inProgressAfter: 0,
      shutdownTimeout: 1,
      concurrency: 1,
      maxAttempts: 1,
      maxQueuedEvents: 1,
      resyncInterval: 1,
      metrics: { registry: { registerMetric: () => {}, getSingleMetric: () => undefined, removeSingleMetric: () => {} } },
      coordination: { type: 'kubernetes-lease', leaseName: 'l' },
      transport: 'node',
      maxResponseBytes: 1024,
    };
    expect(() => resolveTenancyOptions(every, noEnv)).not.toThrow();
  });
});

describe('resolveTenancyOptions: metrics', () => {
  it('accepts a prom-client Registry, kept as given', async () => {
    const { Registry } = await import('prom-client');
    const registry = new Registry();
    expect(resolveTenancyOptions({ ...base, metrics: { registry } }, noEnv).metrics?.registry).toBe(registry);
  });

  it.each([
    ['no registry', {}],
    ['a registry without the lookup and removal the metrics lifecycle needs', { registry: { registerMetric: () => {} } }],
    ['null', null],
  ])('rejects metrics with %s', (_what, metrics) => {
    expect(configError({ ...base, metrics }).message).toBe(
      invalidOption('metrics', 'an object without a prom-client registry', 'must be { registry: Registry }'),
    );
  });
});

describe('resolveTenancyOptions: token shape, url credentials, transport, maxResponseBytes', () => {
  it.each([
    ['a trailing newline', 'hunter2-token\n', 'must not start or end with whitespace or a newline'],
    ['a leading blank', ' hunter2-token', 'must not start or end with whitespace or a newline'],
    ['a control character inside', 'hunter2\u0000token', 'must not contain control characters'],
    ['a tab inside', 'hunter2\ttoken', 'must not contain control characters'],
    ['a character a header cannot carry', 'hunter2-tökenΩ', 'must contain only printable ASCII characters (it is sent as a header)'],
    // Latin-1 fits a header, but node:http encodes it one way for polls and another for status writes.
    ['a Latin-1 letter', 'hunter2-tök-token', 'must contain only printable ASCII characters (it is sent as a header)'],
  ])('rejects a token with %s, naming the field but not the token', (_what, token, rule) => {
    const explicit = configError({ ...base, internalToken: token });
    expect(explicit.message).toBe(invalidOption('internalToken', '[redacted]', rule));
    expect(explicit.message).not.toContain('hunter2');
    const fromEnv = configError(base, { [TOKEN_ENV]: token });
    expect(fromEnv.message).toBe(invalidOption('internalToken', '[redacted]', rule));
  });

  it('masks URL credentials in an option error', () => {
    const error = configError({ ...base, url: 'ftp://admin:hunter2@files.example' });
    expect(error.message).toBe(invalidOption('url', '"ftp://admin:***@files.example"', 'must be an http(s) URL'));
    const wrongType = configError({ ...base, url: new URL('http://admin:hunter2@h') as unknown as string });
    expect(wrongType.message).not.toContain('hunter2');
    // A base64 password pasted unencoded: "/" ends the authority, so the URL does not parse.
    const pasted = configError({ ...base, url: 'http://svc:Zm9vYmFy/cXV4+SECRET@tm.internal:8080' });
    expect(pasted.message).not.toMatch(/SECRET|cXV4|Zm9v/);
  });

  it.each([0, -1, 1.5, '1024'])('rejects maxResponseBytes %s', (value) => {
    const error = configError({ ...base, maxResponseBytes: value as number });
    expect(error.message).toMatch(/^TenancyModule option "maxResponseBytes" must be (positive|an integer number of bytes)/);
  });

  it('accepts the transports it knows and rejects anything else', () => {
    const httpService = { axiosRef: { request: () => Promise.resolve({}) } };
    expect(resolveTenancyOptions({ ...base, transport: 'axios' }, noEnv).transport).toBe('axios');
    expect(resolveTenancyOptions({ ...base, transport: { httpService } }, noEnv).transport).toEqual({ httpService });
    const rule = "must be 'node', 'axios' or { httpService } (an HttpService from @nestjs/axios)";
    expect(configError({ ...base, transport: 'fetch' as 'node' }).message).toBe(invalidOption('transport', '"fetch"', rule));
    expect(configError({ ...base, transport: { httpService: {} } as never }).message).toBe(
      invalidOption('transport', 'an object without httpService.axiosRef', rule),
    );
  });
});

describe('resolveTenancyOptions: null for an optional option without a default', () => {
  it.each(['handlerTimeout', 'inProgressAfter', 'maxAttempts', 'resyncInterval'] as const)(
    '%s: null means "not set", as undefined does (config files write null)',
    (field) => {
      const resolved = resolveTenancyOptions({ ...base, [field]: null } as unknown as TenancyModuleOptions, noEnv);
      expect(resolved[field]).toBeUndefined();
    },
  );
});
