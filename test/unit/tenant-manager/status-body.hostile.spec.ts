import { describe, expect, it } from 'vitest';
import { formatFields } from '../../../src/telemetry/tenancy-logger.js';
import { TenantManagerClient } from '../../../src/tenant-manager/tenant-manager.client.js';
import type { TenantManagerTransport, TransportResponse } from '../../../src/tenant-manager/tenant-manager.transport.js';
import { resolveTenancyOptions } from '../../../src/tenancy-options.resolver.js';

/** A transport that keeps every body it is given and answers an empty 200. */
function capturing(): TenantManagerTransport & { bodies: string[] } {
  const bodies: string[] = [];
  return {
    bodies,
    request: (_channel, _method, _path, body): Promise<TransportResponse> => {
      bodies.push(body ?? '');
      return Promise.resolve({ status: 200, body: '' });
    },
    close: () => undefined,
  };
}

const HOSTILE = ['he said "hi"', 'back\\slash', 'new\nline\r\ttab', '\u0000nul', 'ünï©ødé 🚀', 'lone \ud800 surrogate', '</script>', '', ' '];

describe('status bodies with hostile values (the quoted-string cache)', () => {
  const client = (transport: TenantManagerTransport) =>
    new TenantManagerClient(resolveTenancyOptions({ url: 'http://127.0.0.1:1', controllerName: 'ctl "q" ü' }, {}), transport);

  it('are the JSON of the object, for odd resource types, ids and messages, every time they repeat', async () => {
    const transport = capturing();
    const c = client(transport);
    for (let round = 0; round < 2; round++) {
      for (const value of HOSTILE) {
        await c.putStatus(value, value, 'error', value);
        await c.deleteStatus(value, value);
      }
    }
    const expected: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (const value of HOSTILE) {
        expected.push(JSON.stringify({ controller: 'ctl "q" ü', resourceType: value, resourceId: value, status: 'error', message: value }));
        expected.push(JSON.stringify({ controller: 'ctl "q" ü', resourceType: value, resourceId: value }));
      }
    }
    expect(transport.bodies).toEqual(expected);
  });

  it('stay right past the cache bound: 10,000 distinct resource types, each written twice', async () => {
    const transport = capturing();
    const c = client(transport);
    const types = Array.from({ length: 10_000 }, (_, i) => `type-${i}-"${String.fromCharCode(0x4e00 + (i % 500))}"`);
    for (const type of [...types, ...types]) await c.putStatus(type, 'id', 'completed', '');
    const seen = transport.bodies.map((body) => (JSON.parse(body) as { resourceType: string }).resourceType);
    expect(seen).toEqual([...types, ...types]);
  });
});

describe('log fields with odd values (the one-string field builder)', () => {
  it('quotes newlines and quotes, leaves out undefined, and survives values whose toString throws', () => {
    const throwing = {
      toString(): string {
        throw new Error('no string for you');
      },
    };
    const text = formatFields({ first: undefined, name: 'a\nb "c"', plain: 'ok', n: 1.5, none: null, odd: throwing, last: undefined });
    expect(text.startsWith('name="a\\nb \\"c\\"" plain=ok n=1.5 none=null odd=')).toBe(true);
    expect(text).not.toContain('\n');
    expect(text).not.toContain('undefined');
    expect(formatFields({ only: undefined })).toBe('');
  });
});
