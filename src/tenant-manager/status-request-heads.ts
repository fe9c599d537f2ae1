import type { TransportMethod } from './tenant-manager.transport.js';

// Status bodies differ in length by a few bytes (type, status, message): a handful of heads.
const MAX_CACHED_HEADS = 64;

/**
 * The request heads of status writes, built once per method, path and body length:
 * every event costs two writes, and the head differs only in its content-length.
 * Nested maps, so no key string is built per request.
 */
export class StatusRequestHeads {
  private readonly heads = new Map<TransportMethod, Map<string, Map<number, string>>>();

  constructor(
    private readonly pathPrefix: string,
    /** Every header line but content-length, each ending in CRLF. */
    private readonly headerLines: string,
  ) {}

  headFor(method: TransportMethod, path: string, length: number): string {
    let byPath = this.heads.get(method);
    if (byPath === undefined) this.heads.set(method, (byPath = new Map()));
    let byLength = byPath.get(path);
    if (byLength === undefined) byPath.set(path, (byLength = new Map()));
    let head = byLength.get(length);
    if (head === undefined) {
      if (byLength.size >= MAX_CACHED_HEADS) byLength.clear();
      head = `${method} ${this.pathPrefix}${path} HTTP/1.1\r\n${this.headerLines}content-length: ${length}\r\n\r\n`;
      byLength.set(length, head);
    }
    return head;
  }
}
