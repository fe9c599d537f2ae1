import { TransportFailure } from './tenant-manager.transport.js';
import { responseUndecodable } from '../tenancy.messages.js';
import { decodeEventsPage, type DecodedEventsPage, EventsPageSorter } from './tenant-manager.wire.js';

/**
 * Decodes a `GET /v1/events` body from its bytes (the response chunks as they
 * arrived) in one pass: the envelope is scanned byte by byte, and each element of
 * `events` is parsed alone and turned into a {@link TenancyEvent} at once. So a
 * replay never holds the body as one string, nor the parsed page next to its
 * events: each parsed element dies young. (A 100k replay held ~110 MiB at once the
 * other way, and V8 sizes the heap from what is live at a full GC.)
 *
 * Only the plain, valid envelope takes this path. Anything else (a BOM, not an
 * object, duplicate envelope keys, bad JSON anywhere, a bad `lastEventId`) is
 * decoded again from the text by {@link decodeEventsPage}, so results and error
 * texts are exactly the text decoder's.
 */
export async function decodeEventsPageBytes(chunks: readonly Buffer[]): Promise<DecodedEventsPage> {
  const decoded = await decodePlainEventsPage(chunks);
  return decoded ?? decodeEventsPage(textOf(chunks));
}

/** The one-pass decode of a plain, valid page; undefined for anything the text decoder must judge. */
export async function decodePlainEventsPage(chunks: readonly Buffer[]): Promise<DecodedEventsPage | undefined> {
  try {
    const scanner = new EnvelopeScanner(chunks);
    const sorter = new EventsPageSorter();
    for (let element = scanner.next(); element !== undefined; element = scanner.next()) {
      const pending = sorter.add(JSON.parse(element));
      if (pending !== undefined) await pending;
    }
    const lastEventId = scanner.lastEventId;
    if (!scanner.sawEvents) return undefined;
    if (typeof lastEventId !== 'number' || !Number.isSafeInteger(lastEventId) || lastEventId < 0) return undefined;
    return sorter.page(lastEventId, scanner.received);
  } catch {
    // Unexpected here (bad JSON, or whatever the text decoder will word): decode the text.
    return undefined;
  }
}

/** The body as one string, as the text decoder needs it; too long for a string is an undecodable response. */
function textOf(chunks: readonly Buffer[]): string {
  try {
    return chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new TransportFailure(responseUndecodable(typeof code === 'string' ? code : String(error)), { cause: error });
  }
}

/** The scanner met something the fast path does not take: decode the text instead. */
class NotPlain extends Error {}

// The bytes of JSON structure (all ASCII: a cut next to one never splits a UTF-8 character).
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

// Where the envelope scan is.
/** Before the envelope's `{`. */
const AT_START = 0;
/** After `{`: a key or `}`. */
const AT_FIRST_KEY = 1;
/** After `,`: a key. */
const AT_KEY = 2;
/** After a key: `:`. */
const AT_COLON = 3;
/** After `:`: the value. */
const AT_VALUE = 4;
/** After a value: `,` or `}`. */
const AT_NEXT_KEY = 5;
/** After `[` of `events`: an element or `]`. */
const AT_FIRST_ELEMENT = 6;
/** After `,` in `events`: an element. */
const AT_ELEMENT = 7;
/** After an element: `,` or `]`. */
const AT_NEXT_ELEMENT = 8;
/** After the envelope's `}`: whitespace only. */
const AT_END = 9;

// oxlint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_PLAIN_KEY = /[\\\u0000-\u001f]/;

function isWhitespace(byte: number): boolean {
  return byte === SPACE || byte === LINE_FEED || byte === CARRIAGE_RETURN || byte === TAB;
}

/**
 * Walks `{"events":[…],"lastEventId":N}` over the chunks and hands out the text of
 * each `events` element; values of other keys are only checked to be JSON. Throws
 * {@link NotPlain} (or JSON.parse's error) on anything unexpected.
 */
class EnvelopeScanner {
  /** Elements handed out so far. */
  received = 0;
  /** An `events` array was read. */
  sawEvents = false;
  lastEventId: unknown;
  private state: number = AT_START;
  private chunk = 0;
  private offset = 0;
  private key = '';
  private seenLastEventId = false;

  constructor(private readonly chunks: readonly Buffer[]) {}

  /** The text of the next `events` element, or undefined once the envelope is complete. */
  next(): string | undefined {
    const chunks = this.chunks;
    for (;;) {
      const bytes = chunks[this.chunk];
      if (bytes === undefined) {
        if (this.state !== AT_END) throw new NotPlain('truncated');
        return undefined;
      }
      if (this.offset >= bytes.length) {
        this.chunk += 1;
        this.offset = 0;
        continue;
      }
      const byte = bytes[this.offset];
      if (isWhitespace(byte)) {
        this.offset += 1;
        continue;
      }
      switch (this.state) {
        case AT_START:
          this.expect(byte, OPEN_BRACE, AT_FIRST_KEY);
          break;
        case AT_FIRST_KEY:
          if (byte === CLOSE_BRACE) {
            this.offset += 1;
            this.state = AT_END;
          } else {
            this.readKey(byte);
          }
          break;
        case AT_KEY:
          this.readKey(byte);
          break;
        case AT_COLON:
          this.expect(byte, COLON, AT_VALUE);
          break;
        case AT_VALUE:
          if (this.key === 'events') {
            if (this.sawEvents || byte !== OPEN_BRACKET) throw new NotPlain('events');
            this.sawEvents = true;
            this.offset += 1;
            this.state = AT_FIRST_ELEMENT;
          } else {
            const value = JSON.parse(this.readValue()) as unknown;
            if (this.key === 'lastEventId') {
              if (this.seenLastEventId) throw new NotPlain('lastEventId twice');
              this.seenLastEventId = true;
              this.lastEventId = value;
            }
            this.state = AT_NEXT_KEY;
          }
          break;
        case AT_NEXT_KEY:
          if (byte === COMMA) this.expect(byte, COMMA, AT_KEY);
          else this.expect(byte, CLOSE_BRACE, AT_END);
          break;
        case AT_FIRST_ELEMENT:
          if (byte === CLOSE_BRACKET) {
            this.offset += 1;
            this.state = AT_NEXT_KEY;
            break;
          }
        // falls through: an element
        case AT_ELEMENT:
          this.state = AT_NEXT_ELEMENT;
          this.received += 1;
          return this.readValue();
        case AT_NEXT_ELEMENT:
          if (byte === COMMA) this.expect(byte, COMMA, AT_ELEMENT);
          else this.expect(byte, CLOSE_BRACKET, AT_NEXT_KEY);
          break;
        case AT_END:
          throw new NotPlain('after the envelope');
      }
    }
  }

  private expect(byte: number, wanted: number, then: number): void {
    if (byte !== wanted) throw new NotPlain('structure');
    this.offset += 1;
    this.state = then;
  }

  /** A key: plain bytes compared as text, one with escapes read by JSON.parse. */
  private readKey(byte: number): void {
    if (byte !== QUOTE) throw new NotPlain('key');
    const text = this.readValue();
    // Escapes are JSON.parse's to read, and it rejects a raw control character.
    this.key = NOT_PLAIN_KEY.test(text) ? (JSON.parse(text) as string) : text.slice(1, -1);
    this.state = AT_COLON;
  }

  /**
   * The text of the value that starts at the current byte (not whitespace), up to
   * its end: the matching bracket outside strings, the closing quote, or the byte
   * before a delimiter for a number or literal. JSON.parse of the text judges it.
   */
  private readValue(): string {
    const chunks = this.chunks;
    const startChunk = this.chunk;
    const start = this.offset;
    let depth = 0;
    let inString = false;
    let escaped = false;
    const first = chunks[startChunk][start];
    const scalar = first !== OPEN_BRACE && first !== OPEN_BRACKET && first !== QUOTE;
    for (let index = startChunk; index < chunks.length; index += 1) {
      const bytes = chunks[index];
      const length = bytes.length;
      for (let at = index === startChunk ? start : 0; at < length; at += 1) {
        const byte = bytes[at];
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) {
            inString = false;
            if (depth === 0) return this.take(startChunk, start, index, at + 1);
          }
        } else if (scalar) {
          if (isWhitespace(byte) || byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
            return this.take(startChunk, start, index, at);
          }
        } else if (byte === QUOTE) {
          inString = true;
        } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
          depth += 1;
        } else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth === 0) {
          return this.take(startChunk, start, index, at + 1);
        }
      }
    }
    throw new NotPlain('truncated value');
  }

  /** The text of the bytes from (startChunk, start) to (endChunk, end); the scan goes on after them. */
  private take(startChunk: number, start: number, endChunk: number, end: number): string {
    this.chunk = endChunk;
    this.offset = end;
    const chunks = this.chunks;
    if (startChunk === endChunk) return chunks[startChunk].toString('utf8', start, end);
    // Spans chunks: join just these bytes (cut only at ASCII, so UTF-8 decodes as in the whole body).
    const parts = [chunks[startChunk].subarray(start)];
    for (let index = startChunk + 1; index < endChunk; index += 1) parts.push(chunks[index]);
    parts.push(chunks[endChunk].subarray(0, end));
    return Buffer.concat(parts).toString('utf8');
  }
}
