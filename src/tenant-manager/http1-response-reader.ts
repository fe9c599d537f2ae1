import { TransportFailure } from './tenant-manager.transport.js';
import { connectionClosedEarly, responseMalformed, responseTooLarge } from '../tenancy.messages.js';

// Node's own default cap on a response's status line plus headers.
const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const HTTP_PREFIX = Buffer.from('HTTP/', 'latin1');
const BARE_LF_END = Buffer.from('\n\n', 'latin1');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: |$)/;
const CHUNK_SIZE = /^([0-9a-fA-F]{1,15})(?:[ \t]*;.*)?$/;

/** How the body of the response being read ends. */
const enum Framing {
  /** Exactly `remaining` more bytes. */
  Length,
  /** Transfer-Encoding: chunked. */
  Chunked,
  /** Read until the server closes the connection. */
  Close,
}

/** Where a chunked body is: a size line, chunk data, the CRLF after it, or the trailer section. */
const enum ChunkState {
  Size,
  Data,
  DataEnd,
  Trailers,
}

/**
 * Reads HTTP/1.1 responses off one keep-alive connection, one at a time, from the
 * bytes as they arrive in any split: status line, headers (`Content-Length`,
 * `Transfer-Encoding: chunked`, `Connection`, `Keep-Alive`, `Retry-After`), and the
 * body by length, chunks or connection close; informational (1xx) answers are
 * skipped. The body is capped at `maxBodyBytes`. Made for the status channel's
 * small answers: an empty 200 completes as soon as its head is read.
 */
export class Http1ResponseReader {
  status = 0;
  retryAfter: string | undefined;
  /** False when the connection cannot carry another request after this response. */
  reusable = true;
  /** The server's `Keep-Alive: timeout=N` hint, in ms, when it sent one. */
  keepAliveMs: number | undefined;
  private head: Buffer | undefined;
  private headDone = false;
  private framing = Framing.Length;
  private remaining = 0;
  private chunkState = ChunkState.Size;
  private line = '';
  private body: Buffer[] = [];
  private bodySize = 0;

  constructor(private readonly maxBodyBytes: number) {}

  /** Ready for the next response on the same connection. */
  reset(): void {
    this.status = 0;
    this.retryAfter = undefined;
    this.reusable = true;
    this.keepAliveMs = undefined;
    this.head = undefined;
    this.headDone = false;
    this.framing = Framing.Length;
    this.remaining = 0;
    this.chunkState = ChunkState.Size;
    this.line = '';
    this.body = [];
    this.bodySize = 0;
  }

  /**
   * Takes the next bytes, `chunk[0, length)`; true once the response is complete.
   * Keeps no reference to `chunk` (its memory may be reused for the next read).
   * Bytes beyond the response's end make the connection unusable (nothing was asked
   * for them). Throws a {@link TransportFailure} for a malformed or oversized response.
   */
  push(chunk: Buffer, length = chunk.length): boolean {
    let at = 0;
    while (!this.headDone) {
      const used = this.readHead(chunk, at, length);
      if (used < 0) return false;
      at = used;
    }
    return this.readBody(chunk, at, length);
  }

  /** The server closed the connection: completes a body that runs to the close, else throws. */
  end(): void {
    if (this.headDone && this.framing === Framing.Close) {
      this.reusable = false;
      return;
    }
    throw new TransportFailure(this.headDone ? connectionClosedEarly() : 'ECONNRESET');
  }

  /** True once the status line and headers of a final (non-1xx) response were read. */
  get headRead(): boolean {
    return this.headDone;
  }

  /** The body as text (UTF-8); the reader lets go of its bytes. */
  text(): string {
    const chunks = this.body;
    this.body = [];
    if (chunks.length === 0) return '';
    return chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, this.bodySize).toString('utf8');
  }

  /** Reads head bytes from `chunk` at `at`; the offset after a complete head, or -1 when more is needed. */
  private readHead(chunk: Buffer, at: number, length: number): number {
    let bytes: Buffer;
    let start: number;
    let limit: number;
    if (this.head === undefined) {
      bytes = chunk;
      start = at;
      limit = length;
    } else {
      // A head split across reads: rare, so copying is fine.
      bytes = Buffer.concat([this.head, chunk.subarray(at, length)]);
      start = 0;
      limit = bytes.length;
    }
    let end = bytes.indexOf(HEAD_END, start);
    if (end + HEAD_END.length > limit) end = -1;
    if (end < 0) {
      if (limit - start > MAX_HEAD_BYTES) throw new TransportFailure('HPE_HEADER_OVERFLOW');
      // Fail at once what can never become a head, rather than wait out httpTimeout for it.
      const prefix = Math.min(limit - start, HTTP_PREFIX.length);
      if (bytes.compare(HTTP_PREFIX, 0, prefix, start, start + prefix) !== 0) throw new TransportFailure(responseMalformed('status line'));
      const bareLf = bytes.indexOf(BARE_LF_END, start);
      if (bareLf >= 0 && bareLf + BARE_LF_END.length <= limit) throw new TransportFailure(responseMalformed('line ending'));
      // A copy: the chunk's memory is reused for the next read.
      this.head = Buffer.from(bytes.subarray(start, limit));
      return -1;
    }
    if (end - start > MAX_HEAD_BYTES) throw new TransportFailure('HPE_HEADER_OVERFLOW');
    const consumedOfBytes = end + HEAD_END.length;
    // Offset in `chunk` just after the head.
    const next = this.head === undefined ? consumedOfBytes : at + (consumedOfBytes - this.head.length);
    this.head = undefined;
    this.parseHead(bytes.toString('latin1', start, end));
    return next;
  }

  private parseHead(text: string): void {
    const firstEnd = text.indexOf('\r\n');
    const statusLine = STATUS_LINE.exec(firstEnd < 0 ? text : text.slice(0, firstEnd));
    if (!statusLine) throw new TransportFailure(responseMalformed('status line'));
    const status = Number(statusLine[2]);
    // Informational answers (100 Continue, 103 Early Hints) precede the real one.
    if (status >= 100 && status < 200) {
      if (status === 101) throw new TransportFailure(responseMalformed('unexpected protocol switch'));
      return;
    }
    let keepAlive = statusLine[1] === '1';
    let contentLength: number | undefined;
    let chunked = false;
    // Header by header without splitting the head: only five names matter, told apart
    // by length first, so most lines (Date, Content-Type, Server) cost two searches.
    for (let at = firstEnd < 0 ? text.length : firstEnd + 2; at < text.length; ) {
      let end = text.indexOf('\r\n', at);
      if (end < 0) end = text.length;
      const colon = text.indexOf(':', at);
      if (colon <= at || colon > end || isBlank(text.charCodeAt(at)) || isBlank(text.charCodeAt(colon - 1))) {
        // Also obs-fold and whitespace before the colon: node:http refuses them, and a proxy may read them otherwise.
        throw new TransportFailure(responseMalformed('header line'));
      }
      const length = colon - at;
      if (length === 10 || length === 11 || length === 14 || length === 17) {
        const name = text.slice(at, colon).toLowerCase();
        const value = text.slice(colon + 1, end).trim();
        switch (name) {
          case 'content-length': {
            const declared = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
            if (Number.isNaN(declared) || (contentLength !== undefined && contentLength !== declared)) {
              throw new TransportFailure(responseMalformed('Content-Length'));
            }
            contentLength = declared;
            break;
          }
          case 'transfer-encoding':
            chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
            if (!chunked) throw new TransportFailure(responseMalformed(`Transfer-Encoding ${JSON.stringify(value)}`));
            break;
          case 'connection':
            if (value === 'keep-alive' || value === 'Keep-Alive') keepAlive = true;
            else if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) keepAlive = false;
            else if (/(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(value)) keepAlive = true;
            break;
          case 'keep-alive': {
            const timeout = /(?:^|,)\s*timeout=(\d+)/i.exec(value);
            if (timeout) this.keepAliveMs = Number(timeout[1]) * 1000;
            break;
          }
          case 'retry-after':
            // The first one, as node:http keeps it (a repeated Retry-After is dropped there).
            this.retryAfter ??= value;
            break;
        }
      }
      at = end + 2;
    }
    // Framing two ways at once is how responses get split (RFC 9112 §6.3): node:http refuses it too.
    if (chunked && contentLength !== undefined) throw new TransportFailure(responseMalformed('Transfer-Encoding with Content-Length'));
    this.status = status;
    this.headDone = true;
    this.reusable = keepAlive;
    if (status === 204 || status === 304) {
      this.framing = Framing.Length;
      this.remaining = 0;
    } else if (chunked) {
      this.framing = Framing.Chunked;
    } else if (contentLength !== undefined) {
      if (contentLength > this.maxBodyBytes) throw new TransportFailure(responseTooLarge(this.maxBodyBytes));
      this.framing = Framing.Length;
      this.remaining = contentLength;
    } else {
      this.framing = Framing.Close;
      this.reusable = false;
    }
  }

  private readBody(chunk: Buffer, at: number, length: number): boolean {
    switch (this.framing) {
      case Framing.Length: {
        const take = Math.min(this.remaining, length - at);
        if (take > 0) this.keep(chunk.subarray(at, at + take));
        this.remaining -= take;
        if (this.remaining > 0) return false;
        if (at + take < length) this.reusable = false;
        return true;
      }
      case Framing.Close:
        if (at < length) this.keep(chunk.subarray(at, length));
        return false;
      case Framing.Chunked:
        return this.readChunked(chunk, at, length);
    }
  }

  private readChunked(chunk: Buffer, at: number, length: number): boolean {
    while (at < length) {
      if (this.chunkState === ChunkState.Data) {
        const take = Math.min(this.remaining, length - at);
        this.keep(chunk.subarray(at, at + take));
        at += take;
        this.remaining -= take;
        if (this.remaining === 0) this.chunkState = ChunkState.DataEnd;
        continue;
      }
      // Size lines, the CRLF after data and trailer lines: read line by line.
      let newline = chunk.indexOf(0x0a, at);
      if (newline >= length) newline = -1;
      const piece = chunk.toString('latin1', at, newline < 0 ? length : newline);
      if (this.line.length + piece.length > MAX_HEAD_BYTES) throw new TransportFailure('HPE_HEADER_OVERFLOW');
      if (newline < 0) {
        this.line += piece;
        return false;
      }
      at = newline + 1;
      const raw = this.line + piece;
      this.line = '';
      if (!raw.endsWith('\r')) throw new TransportFailure(responseMalformed('chunk framing'));
      const line = raw.slice(0, -1);
      if (this.chunkState === ChunkState.DataEnd) {
        if (line !== '') throw new TransportFailure(responseMalformed('chunk framing'));
        this.chunkState = ChunkState.Size;
      } else if (this.chunkState === ChunkState.Size) {
        const size = CHUNK_SIZE.exec(line);
        if (!size) throw new TransportFailure(responseMalformed('chunk size'));
        this.remaining = Number.parseInt(size[1], 16);
        if (this.remaining === 0) this.chunkState = ChunkState.Trailers;
        else {
          if (this.bodySize + this.remaining > this.maxBodyBytes) throw new TransportFailure(responseTooLarge(this.maxBodyBytes));
          this.chunkState = ChunkState.Data;
        }
      } else if (line === '') {
        // The empty line after the trailers: the response is complete.
        if (at < length) this.reusable = false;
        return true;
      }
    }
    return false;
  }

  private keep(bytes: Buffer): void {
    this.bodySize += bytes.length;
    if (this.bodySize > this.maxBodyBytes) {
      // Stop at once: memory stays bounded by the limit.
      this.body = [];
      throw new TransportFailure(responseTooLarge(this.maxBodyBytes));
    }
    // A copy: the socket's read buffer must not be kept alive by a slice of it.
    this.body.push(Buffer.from(bytes));
  }
}

/** Space or tab. */
function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
