import { decode, encode } from '@msgpack/msgpack';

/** SignalR hub message types (HubProtocol.md). */
export const MessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
} as const;

export type ProtocolName = 'json' | 'messagepack';

/**
 * What the server reads of a client's message: its type, and for a Completion (a client result) its invocation id and
 * either its error or its result (`hasResult` false: a void completion).
 */
export interface InboundMessage {
  type: number;
  invocationId?: string;
  error?: string;
  hasResult?: boolean;
  result?: unknown;
}

/** What the server needs from a hub protocol: encode its few outbound messages, read inbound messages. */
export interface HubProtocol {
  readonly name: ProtocolName;
  /** Binary protocols need binary WebSocket frames and cannot run over SSE. */
  readonly binary: boolean;
  readonly ping: Buffer;
  /** With `invocationId`, the client must answer with a Completion (a client result); without, it must not. */
  invocation(target: string, args: readonly unknown[], invocationId?: string): Buffer;
  close(error: string | undefined, allowReconnect: boolean): Buffer;
  /** One item of a stream the client opened (server-to-client streaming). */
  streamItem(invocationId: string, item: unknown): Buffer;
  /** The end of a stream the client opened: with `error`, a failed one. */
  completion(invocationId: string, error?: string): Buffer;
  /** Message types of the complete records in `data`; throws on malformed input. */
  messageTypes(data: Buffer): number[];
  /** The complete records in `data`, Completions read in full; throws on malformed input. */
  messages(data: Buffer): InboundMessage[];
}

const RECORD_SEPARATOR = 0x1e;

function jsonRecord(message: object): Buffer {
  return Buffer.from(JSON.stringify(message) + '\x1e');
}

/** Splits RS-terminated text records; the text before the last RS is all complete records. */
export function textRecords(data: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let start = 0;
  for (let end = data.indexOf(RECORD_SEPARATOR); end !== -1; end = data.indexOf(RECORD_SEPARATOR, start)) {
    records.push(data.subarray(start, end));
    start = end + 1;
  }
  if (start !== data.length) throw new Error('Message is incomplete.');
  return records;
}

export const jsonProtocol: HubProtocol = {
  name: 'json',
  binary: false,
  ping: jsonRecord({ type: MessageType.Ping }),
  invocation: (target, args, invocationId) =>
    jsonRecord(
      invocationId === undefined
        ? { type: MessageType.Invocation, target, arguments: args }
        : { type: MessageType.Invocation, invocationId, target, arguments: args },
    ),
  close: (error, allowReconnect) => jsonRecord({ type: MessageType.Close, ...(error ? { error } : {}), ...(allowReconnect ? { allowReconnect } : {}) }),
  streamItem: (invocationId, item) => jsonRecord({ type: MessageType.StreamItem, invocationId, item }),
  completion: (invocationId, error) => jsonRecord({ type: MessageType.Completion, invocationId, ...(error === undefined ? {} : { error }) }),
  messageTypes: (data) => jsonProtocol.messages(data).map(({ type }) => type),
  messages: (data) =>
    textRecords(data).map((record) => {
      const message = JSON.parse(record.toString('utf8')) as Record<string, unknown> | null;
      const type = message?.type;
      if (typeof type !== 'number') throw new Error('Invalid message: missing type.');
      if (type === MessageType.StreamInvocation || type === MessageType.CancelInvocation) {
        return typeof message!.invocationId === 'string' ? { type, invocationId: message!.invocationId } : { type };
      }
      if (type !== MessageType.Completion) return { type };
      const { invocationId, error } = message!;
      if (typeof invocationId !== 'string') throw new Error('Invalid completion: missing invocationId.');
      if (error !== undefined && error !== null) {
        if (typeof error !== 'string' || 'result' in message!) throw new Error('Invalid completion: error and result.');
        return { type, invocationId, error };
      }
      return 'result' in message! ? { type, invocationId, hasResult: true, result: message.result } : { type, invocationId, hasResult: false };
    }),
};

/** MessagePack frames: a VarInt length prefix (7 bits per byte, least significant first), then the payload. */
function lengthPrefixed(payload: Uint8Array): Buffer {
  const prefix: number[] = [];
  let length = payload.length;
  do {
    let byte = length & 0x7f;
    length >>>= 7;
    if (length > 0) byte |= 0x80;
    prefix.push(byte);
  } while (length > 0);
  return Buffer.concat([Buffer.from(prefix), payload]);
}

export function binaryRecords(data: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    let length = 0;
    let shift = 0;
    let byte: number;
    do {
      if (offset >= data.length || shift > 28) throw new Error('Invalid length prefix.');
      byte = data[offset++]!;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    if (offset + length > data.length) throw new Error('Incomplete message.');
    records.push(data.subarray(offset, offset + length));
    offset += length;
  }
  return records;
}

const msgpackRecord = (message: unknown[]): Buffer => lengthPrefixed(encode(message));

export const messagePackProtocol: HubProtocol = {
  name: 'messagepack',
  binary: true,
  ping: msgpackRecord([MessageType.Ping]),
  // Always six elements, as ASP.NET Core and Azure write them: [type, headers, invocationId, target, arguments,
  // streamIds]. Clients such as Python's signalrcore drop five-element invocations. No invocationId, so no completion.
  invocation: (target, args, invocationId) => msgpackRecord([MessageType.Invocation, {}, invocationId ?? null, target, args, []]),
  // Always three elements, [type, error, allowReconnect], with nil for no error, as ASP.NET Core writes them.
  close: (error, allowReconnect) => msgpackRecord([MessageType.Close, error || null, allowReconnect]),
  streamItem: (invocationId, item) => msgpackRecord([MessageType.StreamItem, {}, invocationId, item]),
  // Completion: [3, headers, invocationId, resultKind, result?] with 1 = error, 2 = void.
  completion: (invocationId, error) =>
    msgpackRecord(error === undefined ? [MessageType.Completion, {}, invocationId, 2] : [MessageType.Completion, {}, invocationId, 1, error]),
  messageTypes: (data) => messagePackProtocol.messages(data).map(({ type }) => type),
  // Completion: [3, headers, invocationId, resultKind, result?] with resultKind 1 = error, 2 = void, 3 = result.
  messages: (data) =>
    binaryRecords(data).map((record) => {
      const message = decode(record);
      if (!Array.isArray(message) || typeof message[0] !== 'number') throw new Error('Invalid message: missing type.');
      const type = message[0];
      if (type === MessageType.StreamInvocation || type === MessageType.CancelInvocation) {
        return typeof message[2] === 'string' ? { type, invocationId: message[2] } : { type };
      }
      if (type !== MessageType.Completion) return { type };
      const [, , invocationId, kind, value] = message as unknown[];
      if (typeof invocationId !== 'string') throw new Error('Invalid completion: missing invocationId.');
      if (kind === 1 && typeof value === 'string') return { type, invocationId, error: value };
      if (kind === 2) return { type, invocationId, hasResult: false };
      if (kind === 3 && message.length >= 5) return { type, invocationId, hasResult: true, result: value };
      throw new Error('Invalid completion: unknown result kind.');
    }),
};

export const hubProtocols: Readonly<Record<ProtocolName, HubProtocol>> = {
  json: jsonProtocol,
  messagepack: messagePackProtocol,
};

/** An Invocation as a REST binary payload carries it: no invocation id, so the client does not answer. */
export interface SerialisedInvocation {
  target: string;
  args: unknown[];
}

/**
 * Reads `bytes`, the message Azure's SDK serialised with hub protocol `name` for a binary REST payload: exactly one
 * complete record, an Invocation without an invocation id. Throws, saying why, on anything else.
 */
export function readSerialisedInvocation(name: ProtocolName, bytes: Buffer): SerialisedInvocation {
  const records = name === 'json' ? textRecords(bytes) : binaryRecords(bytes);
  if (records.length !== 1) throw new Error(`the ${name} message must be exactly one record, not ${records.length}`);
  if (name === 'json') {
    const message = JSON.parse(records[0].toString('utf8')) as Record<string, unknown> | null;
    if (message?.type !== MessageType.Invocation) throw new Error('the json message must be an Invocation');
    if (message.invocationId !== undefined && message.invocationId !== null) throw new Error('the json message must not carry an invocationId');
    const args = message.arguments ?? [];
    if (typeof message.target !== 'string' || message.target === '' || !Array.isArray(args)) throw new Error('the json message needs a target and arguments');
    return { target: message.target, args: args as unknown[] };
  }
  const message = decode(records[0]) as unknown[];
  if (!Array.isArray(message) || message[0] !== MessageType.Invocation || message.length < 5) throw new Error('the messagepack message must be an Invocation');
  const [, , invocationId, target, args] = message;
  if (invocationId !== null && invocationId !== undefined) throw new Error('the messagepack message must not carry an invocationId');
  if (typeof target !== 'string' || target === '' || !Array.isArray(args)) throw new Error('the messagepack message needs a target and arguments');
  return { target, args: args as unknown[] };
}

/** MessagePack bin values reach a JSON client as base64 strings, as ASP.NET Core's JSON protocol writes byte arrays. */
export function jsonCompatible(args: readonly unknown[]): unknown[] {
  // The holder's own value, not the one passed in: JSON.stringify applies a Buffer's toJSON before the replacer.
  function base64Bytes(this: Record<string, unknown>, key: string, value: unknown): unknown {
    const original = this[key];
    return original instanceof Uint8Array ? Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') : value;
  }
  return JSON.parse(JSON.stringify(args, base64Bytes)) as unknown[];
}
