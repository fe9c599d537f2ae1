import { describe, expect, it } from 'vitest';
import { Http1ResponseReader } from '../../../src/tenant-manager/http1-response-reader.js';
import { TransportFailure } from '../../../src/tenant-manager/tenant-manager.transport.js';
import { connectionClosedEarly, responseTooLarge } from '../../../src/tenancy.messages.js';

interface Read {
  complete: boolean;
  status: number;
  body: string;
  retryAfter: string | undefined;
  reusable: boolean;
  keepAliveMs: number | undefined;
}

/** Feeds `parts` in order; stops at the first part that completes the response. */
function read(parts: Array<string | Buffer>, limit = 1024): Read {
  const reader = new Http1ResponseReader(limit);
  let complete = false;
  for (const part of parts) {
    complete = reader.push(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
    if (complete) break;
  }
  return { complete, status: reader.status, body: reader.text(), retryAfter: reader.retryAfter, reusable: reader.reusable, keepAliveMs: reader.keepAliveMs };
}

/** Every way of cutting `text` in two (and byte by byte): a reader must not care where reads split. */
function splits(text: string): Array<Buffer[]> {
  const bytes = Buffer.from(text, 'utf8');
  const ways: Array<Buffer[]> = [[bytes], [...bytes].map((byte) => Buffer.from([byte]))];
  for (let at = 1; at < bytes.length; at += 1) ways.push([bytes.subarray(0, at), bytes.subarray(at)]);
  return ways;
}

function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TransportFailure);
    return (error as TransportFailure).detail;
  }
  throw new Error('expected a TransportFailure');
}

describe('Http1ResponseReader', () => {
  it('completes an empty 200 as soon as its head is read, keeping the connection', () => {
    expect(read(['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'])).toEqual({
      complete: true,
      status: 200,
      body: '',
      retryAfter: undefined,
      reusable: true,
      keepAliveMs: undefined,
    });
  });

  it('reads status, Retry-After and a UTF-8 body by Content-Length however the bytes are split', () => {
    const body = '{"error":"slow down ü"}';
    const text = `HTTP/1.1 429 Too Many Requests\r\nretry-after:  7 \r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    for (const parts of splits(text)) {
      expect(read(parts)).toMatchObject({ complete: true, status: 429, body, retryAfter: '7', reusable: true });
    }
  });

  it('decodes a chunked body with extensions and trailers however the bytes are split', () => {
    const text = 'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: 1\r\n\r\n';
    for (const parts of splits(text)) {
      expect(read(parts)).toMatchObject({ complete: true, status: 503, body: 'hello, world', reusable: true });
    }
  });

  it('skips informational answers before the real one', () => {
    expect(read(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'])).toMatchObject({
      complete: true,
      status: 200,
      body: 'ok',
    });
  });

  it('a 204 has no body even without a length', () => {
    expect(read(['HTTP/1.1 204 No Content\r\n\r\n'])).toMatchObject({ complete: true, status: 204, body: '', reusable: true });
  });

  it('gives up the connection when the server says close, speaks HTTP/1.0, or sends bytes nobody asked for', () => {
    expect(read(['HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 0\r\n\r\n']).reusable).toBe(false);
    expect(read(['HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n']).reusable).toBe(false);
    expect(read(['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\ncontent-length: 0\r\n\r\n']).reusable).toBe(true);
    expect(read(['HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n']).reusable).toBe(false);
  });

  it('matches header names in any case, among headers it does not need', () => {
    const text = 'HTTP/1.1 503 Service Unavailable\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\nRETRY-AFTER: 9\r\nServer: tm\r\nCONTENT-LENGTH: 2\r\nCONNECTION: Close\r\n\r\nno';
    expect(read([text])).toMatchObject({ complete: true, status: 503, body: 'no', retryAfter: '9', reusable: false });
  });

  it("reads the server's Keep-Alive timeout hint", () => {
    expect(read(['HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\ncontent-length: 0\r\n\r\n']).keepAliveMs).toBe(5000);
  });

  it('a body without length or chunks runs to the close, and only then is complete', () => {
    const reader = new Http1ResponseReader(1024);
    expect(reader.push(Buffer.from('HTTP/1.1 500 Internal Server Error\r\n\r\nbro'))).toBe(false);
    expect(reader.push(Buffer.from('ken'))).toBe(false);
    reader.end();
    expect({ status: reader.status, body: reader.text(), reusable: reader.reusable }).toEqual({ status: 500, body: 'broken', reusable: false });
  });

  it('a close before the head is a reset; a close inside a framed body is a response that ended early', () => {
    const none = new Http1ResponseReader(1024);
    none.push(Buffer.from('HTTP/1.1 200'));
    expect(failure(() => none.end())).toBe('ECONNRESET');
    const half = new Http1ResponseReader(1024);
    half.push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'));
    expect(failure(() => half.end())).toBe(connectionClosedEarly());
  });

  it('refuses a body over the limit: declared, chunked, or running to the close', () => {
    expect(failure(() => read(['HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n'], 10))).toBe(responseTooLarge(10));
    expect(failure(() => read(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n'], 10))).toBe(responseTooLarge(10));
    expect(failure(() => read(['HTTP/1.1 200 OK\r\n\r\n0123456789', 'x'], 10))).toBe(responseTooLarge(10));
  });

  it('names what is malformed', () => {
    expect(failure(() => read(['HTTP/2 200 OK\r\n\r\n']))).toMatch(/status line/);
    expect(failure(() => read(['HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n']))).toMatch(/Content-Length/);
    expect(failure(() => read(['HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n']))).toMatch(/Content-Length/);
    expect(failure(() => read(['HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n']))).toMatch(/Transfer-Encoding "gzip"/);
    expect(failure(() => read(['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n']))).toMatch(/header line/);
    expect(failure(() => read(['HTTP/1.1 200 OK\r\nno colon here\r\nx: y\r\n\r\n']))).toMatch(/header line/);
    expect(failure(() => read(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n']))).toMatch(/chunk size/);
    expect(failure(() => read(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nabc\r\n']))).toMatch(/chunk framing/);
    expect(failure(() => read([`HTTP/1.1 200 OK\r\nx: ${'y'.repeat(20_000)}`]))).toBe('HPE_HEADER_OVERFLOW');
  });

  it('reads only the first `length` bytes of a reused read buffer, and keeps none of it', () => {
    // Each read's bytes at the start of one buffer; stale bytes after them must not count.
    const buffer = Buffer.alloc(256, 0);
    const reader = new Http1ResponseReader(1024);
    const readInto = (text: string, stale: string): boolean => {
      const length = buffer.write(text, 0, 'latin1');
      buffer.write(stale, length, 'latin1');
      return reader.push(buffer, length);
    };
    expect(readInto('HTTP/1.1 404 Not Found\r\ncontent-length: 6\r\n', '\r\n\r\nxxxxxxxx')).toBe(false);
    expect(readInto('\r\nab', 'cdefgh')).toBe(false);
    expect(readInto('cd', 'ef\r\n')).toBe(false);
    expect(readInto('ef', 'ZZZZ')).toBe(true);
    buffer.fill(0x21);
    expect([reader.status, reader.text(), reader.reusable]).toEqual([404, 'abcdef', true]);
    reader.reset();
    expect(readInto('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc', '\r\n0\r\n\r\n')).toBe(false);
    expect(readInto('\r\n0\r\n', '\r\n')).toBe(false);
    expect(readInto('\r\n', '')).toBe(true);
    expect(reader.text()).toBe('abc');
  });

  it('reads the next response on the same connection after reset()', () => {
    const reader = new Http1ResponseReader(1024);
    expect(reader.push(Buffer.from('HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\nno!'))).toBe(true);
    expect([reader.status, reader.text()]).toEqual([404, 'no!']);
    reader.reset();
    expect(reader.push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'))).toBe(true);
    expect([reader.status, reader.text(), reader.retryAfter]).toEqual([200, '', undefined]);
  });
});
