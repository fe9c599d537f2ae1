import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Injectable } from '@nestjs/common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OnTenancyEvent, type TenancyEvent } from 'nestjs-tenancy';
import type { MatchableRequest } from 'nestjs-tenancy/testing';
import { useFakeTenantManager } from '../support/fake-tenant-manager.harness.js';
import { seededRandom } from '../support/seeded-random.js';
import { waitFor } from '../support/wait-for.js';

const CONTROLLER = 'status-channel-controller';
const isStatus = (r: MatchableRequest) => r.path === '/v1/status';

@Injectable()
class Recorder {
  readonly handled = new Set<string>();
  @OnTenancyEvent('org', 'created')
  handle(event: TenancyEvent): void {
    this.handled.add(event.resourceId);
  }
}

/** Client and server TCP sockets of this process (the fake runs in it too). */
const tcpSockets = () => process.getActiveResourcesInfo().filter((name) => name === 'TCPSocketWrap').length;

const TLS_DIR = join(import.meta.dirname, '../support/tls');

/** A loopback TLS terminator in front of the fake (self-signed for 127.0.0.1): `https:` URLs for the tests. */
class TlsFront {
  private server: TlsServer | undefined;
  private readonly sockets = new Set<Socket>();

  async start(target: string): Promise<string> {
    const { port } = new URL(target);
    const server = createTlsServer(
      { key: readFileSync(join(TLS_DIR, 'loopback.key.pem')), cert: readFileSync(join(TLS_DIR, 'loopback.cert.pem')) },
      (client) => {
        const upstream = connect(Number(port), '127.0.0.1');
        for (const socket of [client, upstream]) {
          this.sockets.add(socket);
          socket.on('error', () => undefined);
          socket.on('close', () => {
            this.sockets.delete(socket);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      },
    );
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

// `http:` status writes take the status channel's own HTTP/1.1 connections (StatusConnections);
// `https:` ones stay on node:http. Both must behave alike.
const PATHS = [
  { path: 'StatusConnections (http:)', tls: false },
  { path: 'node:http (https:)', tls: true },
] as const;

describe.each(PATHS)('the status channel over $path (e2e)', ({ tls }) => {
  const token = 'plain-token';
  let rejectUnauthorized: string | undefined;
  beforeAll(() => {
    // The fixture certificate is self-signed; only the https: suite trusts it, and only for its run.
    rejectUnauthorized = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    if (tls) process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
  });
  afterAll(() => {
    if (rejectUnauthorized === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    else process.env.NODE_TLS_REJECT_UNAUTHORIZED = rejectUnauthorized;
  });
  const front = new TlsFront();
  // Registered before the fake's hooks: stops after the apps closed and the fake stopped.
  afterEach(() => front.stop());
  const tm = useFakeTenantManager(CONTROLLER, { internalToken: token });

  const start = async (options: Record<string, unknown> = {}) => {
    const url = tls ? await front.start(tm.url) : tm.url;
    return tm.apps.start({ url, controllerName: CONTROLLER, internalToken: token, ...options }, [Recorder]);
  };

  /** Held status writes on the wire, then `end` stops the app: afterwards nothing reaches the fake and no socket is left. */
  async function heldWritesThen(end: (app: Awaited<ReturnType<typeof start>>) => Promise<void>): Promise<void> {
    const sockets = tcpSockets();
    const started = await start({ shutdownTimeout: 300, concurrency: 4 });
    await started.poller.whenReady();
    tm.fake.delay(60_000, isStatus);
    for (let i = 0; i < 20; i++) tm.fake.createOrg(`held-${i}`);
    // Four writes (concurrency) held by the server, the others waiting in the writer.
    await waitFor(() => tm.fake.requests.filter(isStatus).length >= 4, { message: 'status writes reached the server' });
    await end(started);
    const afterStop = tm.fake.requestCount;
    // The held requests' connections are closed by the client (the server never answers them).
    await waitFor(() => tm.fake.openConnections === 0, { message: 'no connection to the Tenant Manager left after stop' });
    await waitFor(() => tcpSockets() <= sockets, { message: `TCP sockets back to ${sockets}, now ${tcpSockets()}` });
    expect(tm.fake.requestCount).toBe(afterStop);
    expect(tm.fake.requests.filter(isStatus).length).toBe(4);
  }

  it('poller.stop() with status writes held by the server: they are aborted, none is sent later, no socket is left', async () => {
    await heldWritesThen(({ poller }) => poller.stop());
  });

  it('app.close() with status writes held by the server: the same', async () => {
    await heldWritesThen(({ app }) => app.close());
  });

  it('a status write that runs into httpTimeout: its connection is not used again, and the write lands on another', async () => {
    const { poller } = await start({ httpTimeout: 400 });
    await poller.whenReady();
    // The first status write is never answered in time.
    tm.fake.delay(60_000, isStatus, 1);
    const org = tm.fake.createOrg('late-answer');
    await waitFor(() => tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status === 'completed', {
      timeout: 10_000,
      message: 'the write landed after the timeout',
    });
    const writes = tm.fake.requests.filter(isStatus);
    // Had the timed-out connection carried the next write, the server would only have read it
    // after answering the held one: the held request is still unanswered.
    expect(writes[0].status).toBe(0);
    expect(writes.length).toBeGreaterThanOrEqual(2);
    await poller.whenIdle();
    expect(poller.getStatus().statusWritesPending).toBe(0);
  });

  it('a Tenant Manager answering status writes 500 and 429 at random under load: every row converges, nothing left pending', async () => {
    const { poller, app } = await start({ concurrency: 8, initialBackoff: 5, maxBackoff: 50 });
    await poller.whenReady();
    const random = seededRandom(14);
    tm.fake.failRandomly(0.3, { status: 500, match: isStatus }, random);
    tm.fake.failRandomly(0.2, { status: 429, body: '{"error":"slow down"}', match: isStatus }, random);
    const orgs = Array.from({ length: 200 }, (_, i) => tm.fake.createOrg(`busy-${i}`));
    await waitFor(() => app.get(Recorder).handled.size === orgs.length, { timeout: 15_000, message: 'all handled' });
    await waitFor(() => tm.fake.requests.filter((r) => isStatus(r) && r.status !== 200).length >= 50, {
      timeout: 15_000,
      message: 'the faults were hit',
    });
    tm.fake.clearFaults();
    await waitFor(() => orgs.every((org) => tm.fake.statusOf(CONTROLLER, 'org', org.id)?.status === 'completed'), {
      timeout: 20_000,
      message: 'every row converged to completed',
    });
    await poller.whenIdle();
    expect(poller.getStatus().statusWritesPending).toBe(0);
  }, 60_000);
});
