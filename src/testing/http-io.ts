import type { IncomingMessage, ServerResponse } from 'node:http';

/** PROTOCOL.md: status bodies over 64 KiB are rejected. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A request body read once and parsed once. */
export interface ParsedBody {
  /** The body text; `''` when there was none. */
  readonly raw: string;
  /** The parsed JSON, or `undefined` when the body is empty or not JSON. */
  readonly json: unknown;
  /** True when `raw` parsed as JSON. */
  readonly isJson: boolean;
  /** True when the body exceeded {@link MAX_BODY_BYTES} (then `raw` is `''`). */
  readonly tooLarge: boolean;
}

/** What a route answers: a status and an already serialised body (`''` = none). */
export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

/** PROTOCOL.md: internal writes answer `200` with an empty body. */
export const EMPTY_OK: HttpReply = { status: 200, body: '' };

/** A JSON reply. */
export function jsonReply(status: number, value: unknown): HttpReply {
  return { status, body: JSON.stringify(value) };
}

/** PROTOCOL.md: errors are `{"error": "<message>"}`. */
export function errorReply(status: number, message: string): HttpReply {
  return jsonReply(status, { error: message });
}

/** Splits `req.url` into pathname and query (first value of a repeated key wins, as in Go). */
export function splitUrl(url: string): { path: string; query: Record<string, string> } {
  const mark = url.indexOf('?');
  if (mark < 0) return { path: url, query: {} };
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(url.slice(mark + 1))) {
    if (!(key in query)) query[key] = value;
  }
  return { path: url.slice(0, mark), query };
}

/**
 * Reads the whole body. Past the limit it keeps reading and discarding rather than
 * answering early, so the connection stays usable for keep-alive.
 */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<ParsedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
    req.once('end', () => {
      if (size > limit) {
        resolve({ raw: '', json: undefined, isJson: false, tooLarge: true });
        return;
      }
      const raw = chunks.length === 0 ? '' : Buffer.concat(chunks).toString('utf8');
      resolve(parseBody(raw));
    });
  });
}

function parseBody(raw: string): ParsedBody {
  if (raw === '') return { raw, json: undefined, isJson: false, tooLarge: false };
  try {
    return { raw, json: JSON.parse(raw) as unknown, isJson: true, tooLarge: false };
  } catch {
    return { raw, json: undefined, isJson: false, tooLarge: false };
  }
}

/** Writes a reply with an explicit content-length, which keep-alive relies on. */
export function sendReply(res: ServerResponse, reply: HttpReply): void {
  if (reply.body === '') {
    res.writeHead(reply.status, { 'content-length': 0 });
    res.end();
    return;
  }
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(reply.body),
  });
  res.end(reply.body);
}

/** Narrows parsed JSON to a plain object. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
