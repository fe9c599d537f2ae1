import { inspect } from 'node:util';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Injectable, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OnTenancyEvent, TenancyModule, TenancyPoller, type TenancyEvent, type TenancyModuleOptions } from 'nestjs-tenancy';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { HostileProxy, type ProxiedRequest } from '../support/hostile-proxy.js';
import { CapturingLogger, FAST_TIMINGS } from '../support/tenancy-test-app.js';
import { useUnhandledRejections } from '../support/unhandled-rejections.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'wire-controller';
const TOKEN = 'tok-SECRET-4711';
const PASSWORD = 'hunter2-in-url';

type Variant = 'node' | 'axios' | 'HttpService';
const VARIANTS: Variant[] = ['node', 'axios', 'HttpService'];

const isReplay = (r: ProxiedRequest) => r.url.includes('/v1/events?') && r.url.includes('replay=true');
const isPoll = (r: ProxiedRequest) => r.url.includes('/v1/events?') && r.url.includes('after=');
const isStatusWrite = (r: ProxiedRequest) => r.url.endsWith('/v1/status');

@Injectable()
class Recorder {
  readonly seen: string[] = [];
  @OnTenancyEvent('org', 'created')
  @OnTenancyEvent('project', 'created')
  @OnTenancyEvent('project', 'deleted')
  handle(event: TenancyEvent): void {
    this.seen.push(`${event.resourceType}/${event.eventType}/${event.resourceName}`);
  }
}

describe.each(VARIANTS)('the wire contract over the %s transport (e2e)', (variant) => {
  const unhandled = useUnhandledRejections();
  afterEach(() => {
    expect(unhandled).toEqual([]);
  });

  const tm = useFakeTenantManager(CONTROLLER, { internalToken: TOKEN });
  let proxy: HostileProxy;
  let proxyUrl: string;
  beforeEach(async () => {
    proxy = new HostileProxy(tm.url);
    proxyUrl = await proxy.start();
  });
  afterEach(async () => {
    // Apps first (their in-flight requests end), then the proxy.
    await tm.apps.closeAll();
    await proxy.stop();
  });

  /** Boots the module with this suite's transport; `forRootAsync` + `HttpModule` for the HttpService variant. */
  async function start(options: Partial<TenancyModuleOptions>, providers: Provider[] = [Recorder]) {
    const logs = new CapturingLogger();
    const errors: Array<{ error: Error; message: string }> = [];
    const given: TenancyModuleOptions = {
      ...FAST_TIMINGS,
      url: proxyUrl,
      controllerName: CONTROLLER,
      internalToken: TOKEN,
      onError: (error, message) => errors.push({ error, message }),
      ...options,
    };
    const tenancy =
      variant === 'HttpService'
        ? TenancyModule.forRootAsync({
            imports: [HttpModule],
            inject: [HttpService],
            useFactory: (http: HttpService) => ({ ...given, transport: { httpService: http } }),
          })
        : TenancyModule.forRoot({ ...given, transport: variant });
    const moduleRef = await Test.createTestingModule({ imports: [tenancy], providers }).setLogger(logs).compile();
    tm.apps.track(moduleRef);
    await moduleRef.init();
    return { app: moduleRef, poller: moduleRef.get(TenancyPoller), logs, errors };
  }

  it('follows the log: replay, polls, the status lifecycle, with the token on every request', async () => {
    tm.fake.createOrg('acme');
    const { app, poller } = await start({});
    await poller.whenReady();
    const project = tm.fake.createProject('acme', 'web');
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'project', project.id)?.status === 'completed');
    tm.fake.deleteProject('acme', 'web');
    await waitFor(() => app.get(Recorder).seen.includes('project/deleted/web'));
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'project', project.id) === undefined);
    expect(app.get(Recorder).seen).toEqual(['org/created/acme', 'project/created/web', 'project/deleted/web']);
    expect(tm.fake.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('reports a failed request once, naming the method and path', async () => {
    tm.fake.failNext(1, { status: 404, body: '{"error":"not found"}', match: { path: '/v1/events' } });
    const { poller, errors } = await start({});
    await poller.whenReady();
    await poller.whenIdle();
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(
      new RegExp(
        `^Tenant Manager replay failed: GET /v1/events\\?controller=${CONTROLLER}&replay=true: HTTP 404 not found; retrying in \\d+ ms \\(attempt 1\\)$`,
      ),
    );
  });

  it('a Tenant Manager that is down: the replay failure says each thing once', async () => {
    await proxy.stop();
    const { errors } = await start({});
    await waitFor(() => errors.length > 0);
    const escaped = proxyUrl.replace(/[.]/g, '\\.');
    expect(errors[0].message).toMatch(
      new RegExp(
        `^Tenant Manager replay failed: GET /v1/events\\?controller=${CONTROLLER}&replay=true: ECONNREFUSED \\(${escaped}\\); retrying in \\d+ ms \\(attempt 1\\)$`,
      ),
    );
  });

  it('a replay that trickles its body fails at httpTimeout and recovers when the server behaves', async () => {
    proxy.rule = { match: isReplay, behave: { kind: 'trickle', every: 100 } };
    tm.fake.createOrg('acme');
    const started = Date.now();
    const { app, poller, errors } = await start({ httpTimeout: 1_000, initialBackoff: 50, maxBackoff: 100 });
    await waitFor(() => errors.length > 0, { timeout: 10_000, message: 'the trickling replay was never reported' });
    // ~1 s; the bound is 5x, since without a deadline it never fails at all.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(errors[0].message).toContain(`GET /v1/events?controller=${CONTROLLER}&replay=true: timed out after 1000 ms (httpTimeout)`);
    expect(poller.isReady()).toBe(false);
    proxy.rule = undefined;
    await poller.whenReady();
    await poller.whenIdle();
    // Recovered: the replay that timed out is handled once it arrives whole.
    expect(poller.isReady()).toBe(true);
    expect(app.get(Recorder).seen).toEqual(['org/created/acme']);
  });

  it('a poll that trickles fails at httpTimeout, and polling resumes afterwards', async () => {
    const { app, poller, errors } = await start({ httpTimeout: 1_000 });
    await poller.whenReady();
    proxy.rule = { match: isPoll, behave: { kind: 'trickle', every: 100 } };
    await waitFor(() => errors.some((e) => e.message.includes('timed out after 1000 ms (httpTimeout)')), {
      timeout: 10_000,
    });
    expect(errors[0].message).toMatch(/^Tenant Manager poll failed: GET \/v1\/events\?controller=wire-controller&after=0&limit=\d+: timed out/);
    proxy.rule = undefined;
    tm.fake.createOrg('later');
    await waitFor(() => app.get(Recorder).seen.includes('org/created/later'));
  });

  it('trickling status writes fail at httpTimeout without holding up polls, and land once the server behaves', async () => {
    const { app, poller, errors } = await start({ httpTimeout: 1_000 });
    await poller.whenReady();
    proxy.rule = { match: isStatusWrite, behave: { kind: 'trickle', every: 100 } };
    const first = tm.fake.createOrg('first');
    const second = tm.fake.createOrg('second');
    // Handlers run and polls go on while every status write hangs.
    await waitFor(() => app.get(Recorder).seen.includes('org/created/second'));
    await waitFor(() => errors.some((e) => e.message.includes('PUT /v1/status: timed out after 1000 ms (httpTimeout)')), {
      timeout: 10_000,
    });
    proxy.rule = undefined;
    await waitFor(() =>
      [first, second].every((org) => tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status === 'completed'),
      { timeout: 10_000 },
    );
  });

  it('shutdown is not held by a trickling status write: each attempt ends at httpTimeout', async () => {
    const { app, poller } = await start({ httpTimeout: 1_000, shutdownTimeout: 20_000 });
    await poller.whenReady();
    proxy.rule = { match: isStatusWrite, behave: { kind: 'trickle', every: 100 } };
    tm.fake.createOrg('slow');
    await waitFor(() => app.get(Recorder).seen.includes('org/created/slow'));
    await waitFor(() => proxy.seen.some(isStatusWrite));
    const closing = Date.now();
    await app.close();
    // ~3 s: the resource's queued writes go one at a time, each cut at httpTimeout.
    // Without a deadline, close() waited the whole shutdownTimeout (20 s).
    expect(Date.now() - closing).toBeLessThan(12_000);
  });

  it('an endless body is abandoned at maxResponseBytes with memory bounded, then the replay recovers', async () => {
    const limit = 1024 * 1024;
    proxy.rule = { match: isReplay, behave: { kind: 'endless' } };
    const rssBefore = process.memoryUsage().rss;
    const { poller, errors } = await start({ maxResponseBytes: limit });
    await waitFor(() => errors.length >= 2, { timeout: 10_000 });
    expect(errors[0].message).toContain(`replay=true: response body exceeds maxResponseBytes (${limit} bytes); abandoned`);
    // Unbounded reading pulls gigabytes in seconds; each abandoned attempt read about a megabyte.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
    proxy.rule = undefined;
    await poller.whenReady();
    await waitFor(() => proxy.openConnections <= 2, { message: 'abandoned connections stayed open' });
  });

  it('a 600 MB body fails cleanly against a small maxResponseBytes', async () => {
    const limit = 8 * 1024 * 1024;
    proxy.rule = { match: isReplay, behave: { kind: 'huge', bytes: 600 * 1024 * 1024, chunked: true } };
    const { poller, errors } = await start({ maxResponseBytes: limit });
    await waitFor(() => errors.length > 0, { timeout: 10_000 });
    expect(errors[0].message).toContain(`response body exceeds maxResponseBytes (${limit} bytes)`);
    proxy.rule = undefined;
    await poller.whenReady();
    expect(proxy.hostileBytesWritten).toBeLessThan(300 * 1024 * 1024);
  });

  it('no text anywhere carries the token or the URL password', async () => {
    const registry = new Registry();
    const url = proxyUrl.replace('http://', `http://admin:${PASSWORD}@`);
    tm.fake.createOrg('acme');
    tm.fake.failNext(2, { status: 500, body: '{"error":"boom"}', match: { path: '/v1/events' } });
    const { poller, logs, errors } = await start({ url, httpTimeout: 1_000, metrics: { registry } });
    await poller.whenReady();
    // A status write times out, then the Tenant Manager vanishes: connection errors.
    proxy.rule = { match: isStatusWrite, behave: { kind: 'trickle', every: 100 } };
    tm.fake.createOrg('slow');
    await waitFor(() => errors.some((e) => e.message.includes('PUT /v1/status: timed out')), { timeout: 10_000 });
    await proxy.stop();
    await waitFor(() => errors.some((e) => e.message.includes('ECONNREFUSED')), { timeout: 10_000 });
    const refused = errors.find((e) => e.message.includes('ECONNREFUSED'))!;
    expect(refused.message).toContain(`(${proxyUrl.replace('http://', 'http://admin:***@')})`);
    const texts = [
      ...logs.lines.map((l) => `${l.message}\n${l.stack ?? ''}`),
      ...errors.map((e) => `${e.message}\n${inspect(e.error, { depth: 8, showHidden: true })}`),
      JSON.stringify(poller.getStatus()),
      await registry.metrics(),
    ].join('\n');
    expect(texts).not.toContain(PASSWORD);
    expect(texts).not.toContain(TOKEN);
    expect(texts).toContain('admin:***@');
  });
});

describe('the axios transports honour the host HTTP setup (e2e)', () => {
  const tm = useFakeTenantManager(CONTROLLER);
  let proxy: HostileProxy;
  let proxyUrl: string;
  const savedEnv = { ...process.env };
  beforeEach(async () => {
    proxy = new HostileProxy(tm.url);
    proxyUrl = await proxy.start();
  });
  afterEach(async () => {
    process.env = { ...savedEnv };
    await tm.apps.closeAll();
    await proxy.stop();
  });

  it('HttpModule interceptors apply to every request', async () => {
    const tracing = HttpModule.register({});
    const moduleRef = await Test.createTestingModule({
      imports: [
        TenancyModule.forRootAsync({
          imports: [tracing],
          inject: [HttpService],
          useFactory: (http: HttpService) => {
            http.axiosRef.interceptors.request.use((config) => {
              config.headers.set('x-trace-id', 'trace-1');
              return config;
            });
            return { ...FAST_TIMINGS, url: tm.url, controllerName: CONTROLLER, transport: { httpService: http } };
          },
        }),
      ],
      providers: [Recorder],
    })
      .setLogger(new CapturingLogger())
      .compile();
    tm.apps.track(moduleRef);
    await moduleRef.init();
    const poller = moduleRef.get(TenancyPoller);
    tm.fake.createOrg('acme');
    await poller.whenReady();
    await waitFor(() => tm.fake.requests.some((r) => r.path === '/v1/status'));
    expect(tm.fake.requests.length).toBeGreaterThan(1);
    expect(tm.fake.requests.every((r) => r.headers['x-trace-id'] === 'trace-1')).toBe(true);
  });

  it("transport 'axios' sends through HTTP_PROXY from the environment", async () => {
    process.env.HTTP_PROXY = proxyUrl;
    process.env.http_proxy = proxyUrl;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    // The target must not look local to the proxy resolver: use the fake's port on localhost by name.
    const target = tm.url.replace('127.0.0.1', 'localhost');
    const moduleRef = await Test.createTestingModule({
      imports: [TenancyModule.forRoot({ ...FAST_TIMINGS, url: target, controllerName: CONTROLLER, transport: 'axios' })],
      providers: [Recorder],
    })
      .setLogger(new CapturingLogger())
      .compile();
    tm.apps.track(moduleRef);
    await moduleRef.init();
    await moduleRef.get(TenancyPoller).whenReady();
    // A forward proxy sees absolute URLs.
    expect(proxy.seen.some((r) => r.url.startsWith(`${target}/v1/events?controller=${CONTROLLER}&replay=true`))).toBe(true);
  });
});
