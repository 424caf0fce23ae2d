import type { FastifyRequest } from 'fastify';
import { decode } from '@msgpack/msgpack';
import { readSerialisedInvocation, type ProtocolName, type SerialisedInvocation } from '../protocol/hub-protocol.js';
import { OutboundMessage } from '../protocol/outbound-message.js';

export class BadRequest extends Error {}

/** One of `:execute`'s commands, read. */
export type Command =
  | { type: 'SendMessage'; message: OutboundMessage }
  | { type: 'JoinGroup' | 'LeaveGroup'; group: string }
  | { type: 'CloseConnection'; reason: string | undefined };

// The swagger's patterns: hub and application names, and group names that are not only whitespace.
const HUB_PATTERN = /^[A-Za-z][A-Za-z0-9_`,.[\]]{0,127}$/;
const MAX_NAME_LENGTH = 1024;
/** Ids are counted in UTF-16 units; escaped, each unit takes at most 9 characters (3 UTF-8 bytes as `%XX`). */
export const MAX_ESCAPED_NAME_LENGTH = MAX_NAME_LENGTH * 9;

function fieldOf(body: Record<string, unknown>, name: string): unknown {
  // The .NET SDK sends `Target`/`Arguments`; the spec says `target`/`arguments`.
  const key = Object.keys(body).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : body[key];
}

/** One REST request, read the way the data-plane API defines it. */
export class RestRequest {
  readonly query: URLSearchParams;
  private readonly params: Record<string, string>;

  constructor(private readonly request: FastifyRequest) {
    this.query = new URL(request.url, 'http://query').searchParams;
    this.params = request.params as Record<string, string>;
  }

  get hubKey(): string {
    const hub = this.params['hub'] ?? '';
    const application = this.query.get('application');
    if (!HUB_PATTERN.test(hub)) throw new BadRequest('Invalid hub name.');
    if (application !== null && !HUB_PATTERN.test(application)) throw new BadRequest('Invalid application name.');
    // Azure's hub key: lower(application)_lower(hub), which is also what clients negotiate with.
    return application ? `${application.toLowerCase()}_${hub.toLowerCase()}` : hub.toLowerCase();
  }

  get connectionId(): string {
    return this.name('connectionId');
  }

  get group(): string {
    const group = this.name('group');
    if (group.trim() === '') throw new BadRequest('Invalid group name.');
    return group;
  }

  get user(): string {
    return this.name('user');
  }

  /** 1-100 characters, not only white space (2024-12-01). */
  get streamId(): string {
    const streamId = this.params['streamId'] ?? '';
    if (streamId.length < 1 || streamId.length > 100 || streamId.trim() === '') throw new BadRequest('Invalid streamId.');
    return streamId;
  }

  /** `completed` of a stream item: the last one. */
  get completed(): boolean {
    const completed = this.query.get('completed');
    if (completed !== null && completed !== 'true' && completed !== 'false') throw new BadRequest('completed must be true or false.');
    return completed === 'true';
  }

  /** A stream item: the JSON body, any value. */
  streamItem(): unknown {
    if (this.request.body === undefined) throw new BadRequest('The stream item (a JSON body) is required.');
    return this.request.body;
  }

  get excluded(): Set<string> {
    return new Set(this.query.getAll('excluded'));
  }

  get reason(): string | undefined {
    return this.query.get('reason') ?? undefined;
  }

  /** Seconds, a non-negative int32; undefined when absent. */
  get ttl(): number | undefined {
    const ttl = this.query.get('ttl');
    if (ttl === null) return undefined;
    if (!/^\d+$/.test(ttl) || Number(ttl) > 2 ** 31 - 1) throw new BadRequest('ttl must be a non-negative integer number of seconds.');
    return Number(ttl);
  }

  message(): OutboundMessage {
    if (Buffer.isBuffer(this.request.body)) {
      const { bytes, invocation } = binaryPayload(this.request.body);
      return OutboundMessage.serialised(bytes, invocation);
    }
    const { target, args } = this.payload();
    return OutboundMessage.invocation(target, args);
  }

  /** The body's PayloadMessage: the method to invoke and its arguments. */
  payload(): { target: string; args: unknown[] } {
    const body = this.request.body;
    if (Buffer.isBuffer(body)) return binaryPayload(body).invocation;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('The body must be a JSON object.');
    const target = fieldOf(body as Record<string, unknown>, 'target');
    const args = fieldOf(body as Record<string, unknown>, 'arguments') ?? [];
    if (typeof target !== 'string' || target === '') throw new BadRequest('target is required.');
    if (!Array.isArray(args)) throw new BadRequest('arguments must be an array.');
    return { target, args };
  }

  /** `:execute`'s body: a JSON array of SignalRCommand. */
  commands(): Command[] {
    const body = this.request.body;
    if (!Array.isArray(body) || body.length === 0) throw new BadRequest('The body must be a non-empty JSON array of commands.');
    return body.map((command: unknown, index): Command => {
      const fields = (typeof command === 'object' && command !== null ? command : {}) as Record<string, unknown>;
      const type = fieldOf(fields, 'type');
      if (type === 'SendMessage') {
        const message = fieldOf(fields, 'message');
        const target = typeof message === 'object' && message !== null ? fieldOf(message as Record<string, unknown>, 'target') : undefined;
        const args = typeof message === 'object' && message !== null ? (fieldOf(message as Record<string, unknown>, 'arguments') ?? []) : [];
        if (typeof target !== 'string' || target === '' || !Array.isArray(args))
          throw new BadRequest(`Command ${index}: message needs a target and arguments.`);
        return { type, message: OutboundMessage.invocation(target, args) };
      }
      if (type === 'JoinGroup' || type === 'LeaveGroup') {
        const group = fieldOf(fields, 'group');
        if (typeof group !== 'string' || group.length < 1 || group.length > MAX_NAME_LENGTH) throw new BadRequest(`Command ${index}: invalid group.`);
        return { type, group };
      }
      if (type === 'CloseConnection') {
        const reason = fieldOf(fields, 'reason');
        if (reason !== undefined && typeof reason !== 'string') throw new BadRequest(`Command ${index}: reason must be a string.`);
        return { type, reason };
      }
      throw new BadRequest(`Command ${index}: unknown type.`);
    });
  }

  /** An optional int32 query parameter within `minimum`..`maximum`. */
  integer(name: string, minimum: number, maximum: number): number | undefined {
    const value = this.query.get(name);
    if (value === null) return undefined;
    if (!/^\d{1,10}$/.test(value) || Number(value) < minimum || Number(value) > maximum)
      throw new BadRequest(`${name} must be an integer from ${minimum} to ${maximum}.`);
    return Number(value);
  }

  /** The URL of this request with `query` instead of its own query: absolute, as Azure's `nextLink` is. */
  urlWith(query: URLSearchParams): string {
    const path = new URL(this.request.url, 'http://path').pathname;
    return `${this.request.protocol}://${this.request.host}${path}?${query.toString()}`;
  }

  private name(param: string): string {
    const value = this.params[param] ?? '';
    if (value.length < 1 || value.length > MAX_NAME_LENGTH) throw new BadRequest(`Invalid ${param}.`);
    return value;
  }
}

const PROTOCOLS: readonly ProtocolName[] = ['messagepack', 'json'];

/**
 * A binary REST payload as Azure's .NET SDK sends it (`application/octet-stream`; `application/x-msgpack` is read the
 * same way): a MessagePack map from hub protocol name to the Invocation serialised in that protocol. Each entry must
 * be one well-formed Invocation; the message itself is read from the MessagePack entry when there is one.
 */
function binaryPayload(body: Buffer): { bytes: Partial<Record<ProtocolName, Buffer>>; invocation: SerialisedInvocation } {
  let map: unknown;
  try {
    map = decode(body);
  } catch {
    throw new BadRequest('A binary payload must be a MessagePack map from hub protocol name to the serialised message.');
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map) || map instanceof Uint8Array)
    throw new BadRequest('A binary payload must be a MessagePack map.');
  const bytes: Partial<Record<ProtocolName, Buffer>> = {};
  let invocation: SerialisedInvocation | undefined;
  for (const [name, value] of Object.entries(map)) {
    if (!PROTOCOLS.includes(name as ProtocolName)) throw new BadRequest(`Unknown hub protocol '${name}' in the binary payload.`);
    if (!(value instanceof Uint8Array)) throw new BadRequest(`The '${name}' message must be MessagePack bin.`);
    const buffer = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    try {
      const read = readSerialisedInvocation(name as ProtocolName, buffer);
      if (invocation === undefined || name === 'messagepack') invocation = read;
    } catch (error) {
      throw new BadRequest(`Invalid binary payload: ${(error as Error).message}.`);
    }
    bytes[name as ProtocolName] = buffer;
  }
  if (invocation === undefined) throw new BadRequest('A binary payload must carry the message for at least one hub protocol.');
  return { bytes, invocation };
}
