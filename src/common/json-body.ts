import { errorCodes, type FastifyInstance } from 'fastify';

/** The exact text each object or array that is a top-level member of a parsed JSON body was sent as. */
const sourceTexts = new WeakMap<object, string>();

/** A body of one of the binary content types its route accepts, kept as the bytes that came. */
export class BinaryBody {
  constructor(
    /** The media type as sent, without parameters, lowercased: `application/octet-stream`. */
    readonly contentType: string,
    readonly bytes: Buffer,
  ) {}
}

/** Binary content types some routes take (matched by their route pattern, e.g. `/api/hubs/:hub/::send`). */
export interface BinaryBodies {
  contentTypes: readonly string[];
  accepts(routeUrl: string | undefined): boolean;
}

/**
 * The gateway reads JSON bodies and, on the routes `binary` names, the binary types it lists (as a BinaryBody), and
 * nothing else, with one rule for every other content type or route: a body is refused with 415, an empty body is no
 * body (many HTTP clients, Python's SignalR clients among them, send `Content-Type: application/json` or
 * `application/octet-stream` with nothing, even where no body is expected).
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance, binary?: BinaryBodies): void {
  fastify.removeAllContentTypeParsers();
  for (const contentType of binary?.contentTypes ?? []) {
    fastify.addContentTypeParser(contentType, { parseAs: 'buffer' }, (request, bytes, done) => {
      if ((bytes as Buffer).length === 0) return done(null, undefined);
      if (!binary!.accepts(request.routeOptions.url)) return done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
      done(null, new BinaryBody(contentType, bytes as Buffer));
    });
  }
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    try {
      done(null, text === '' ? undefined : parseJsonBody(text as string));
    } catch {
      done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, bytes, done) => {
    done((bytes as Buffer).length === 0 ? null : new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
  });
}

/**
 * Plain `JSON.parse` (iterative in V8, linear), not Fastify's secure-json-parse: keys such as `__proto__` stay own
 * data properties, which the validation pipe refuses by their path (secure-json-parse called such a body "not valid
 * JSON"). The source text of each top-level member that is an object or array is kept, so message arguments can be
 * forwarded exactly as sent (see sourceTextOf).
 */
export function parseJsonBody(text: string): unknown {
  const body: unknown = JSON.parse(text);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  for (const [key, source] of memberSources(text)) {
    const value = (body as Record<string, unknown>)[key];
    if (typeof value === 'object' && value !== null) sourceTexts.set(value, source);
  }
  return body;
}

/**
 * The text `value` was sent as, for an object or array that is a top-level member of a JSON body. Serialising it
 * again would not do: JSON.stringify recurses (a 10,000-level array overflows the stack) and rounds numbers
 * such as 12345678901234567890.
 */
export function sourceTextOf(value: object): string {
  const text = sourceTexts.get(value);
  if (text === undefined) throw new Error('the value is not a top-level member of a parsed JSON body');
  return text;
}

/**
 * The source text of each member of `text`, valid JSON whose top level is an object, by key; the last of duplicate
 * keys wins, as in JSON.parse. One pass over the characters, no recursion.
 */
function memberSources(text: string): Map<string, string> {
  const members = new Map<string, string>();
  let depth = 0;
  /** The key of the top-level member being read; undefined while a key is expected. */
  let key: string | undefined;
  let valueStart = 0;
  const endMember = (at: number): void => {
    if (key !== undefined) members.set(key, text.slice(valueStart, at).trim());
    key = undefined;
  };
  // Character codes, not one-character strings: the scan runs over every byte of every JSON body.
  for (let at = 0; at < text.length; at++) {
    switch (text.charCodeAt(at)) {
      case QUOTE: {
        const end = stringEnd(text, at);
        if (depth === 1 && key === undefined) key = JSON.parse(text.slice(at, end + 1)) as string;
        at = end;
        break;
      }
      case OPEN_BRACE:
      case OPEN_BRACKET:
        depth++;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        if (depth === 1) endMember(at);
        depth--;
        break;
      case COLON:
        if (depth === 1) valueStart = at + 1;
        break;
      case COMMA:
        if (depth === 1) endMember(at);
        break;
    }
  }
  return members;
}

const [QUOTE, OPEN_BRACE, OPEN_BRACKET, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA] = [...'"{[}]:,'].map((char) => char.charCodeAt(0));

/** Where the JSON string opening at `start` closes: the next quote not escaped by an odd run of backslashes. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  for (;;) {
    let backslashes = 0;
    while (text[end - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}
