import { Agent, request } from 'node:http';
import { afterEach } from 'vitest';
import { FakeTenantManager, type FakeTenantManagerOptions } from 'nestjs-tenancy/testing';

/** A response read to the end: status, raw text, parsed JSON when there is a body. */
export interface Reply {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

/** Starts fakes on 127.0.0.1:0 and stops every one of them after each test. */
export function useFakes(): (options?: FakeTenantManagerOptions) => Promise<FakeTenantManager> {
  const started: FakeTenantManager[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((fake) => fake.stop()));
  });
  return async (options) => {
    const fake = new FakeTenantManager(options);
    started.push(fake);
    await fake.start(0, '127.0.0.1');
    return fake;
  };
}

/**
 * One request against a fake. `body` objects are sent as JSON, strings raw;
 * `headers` adds to (or replaces) the defaults.
 */
export async function call(
  fake: FakeTenantManager,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(fake.url + path, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

/** `{"error": message}` as the fake sends it. */
export function errorBody(message: string): { error: string } {
  return { error: message };
}

/** A status PUT body for a project row. */
export function statusBody(
  controller: string,
  resourceId: string,
  status: string,
  message = '',
  resourceType = 'project',
): Record<string, string> {
  return { controller, resourceType, resourceId, status, message };
}

/** The wire timestamp format: ISO with six fraction digits. */
export const MICROS_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
/** `Date#toISOString()` format. */
export const MILLIS_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * One request through node:http with the given agent. Connection-reuse tests use
 * this, not fetch: undici opens extra sockets on its own (it races its pool, and it
 * closes after a DELETE with a body), which would make connection counts flaky.
 */
export function httpCall(
  fake: FakeTenantManager,
  agent: Agent,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = request(fake.url + path, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A keep-alive agent with one socket, destroyed after each test. */
export function useKeepAliveAgent(): () => Agent {
  const agents: Agent[] = [];
  afterEach(() => {
    for (const agent of agents.splice(0)) agent.destroy();
  });
  return () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    return agent;
  };
}
