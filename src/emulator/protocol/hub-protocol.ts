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

/** What the server needs from a hub protocol: encode its few outbound messages, read inbound message types. */
export interface HubProtocol {
  readonly name: ProtocolName;
  /** Binary protocols need binary WebSocket frames and cannot run over SSE. */
  readonly binary: boolean;
  readonly ping: Buffer;
  invocation(target: string, args: readonly unknown[]): Buffer;
  close(error: string | undefined, allowReconnect: boolean): Buffer;
  /** Message types of the complete records in `data`; throws on malformed input. */
  messageTypes(data: Buffer): number[];
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
  invocation: (target, args) => jsonRecord({ type: MessageType.Invocation, target, arguments: args }),
  close: (error, allowReconnect) => jsonRecord({ type: MessageType.Close, ...(error ? { error } : {}), ...(allowReconnect ? { allowReconnect } : {}) }),
  messageTypes: (data) =>
    textRecords(data).map((record) => {
      const message: unknown = JSON.parse(record.toString('utf8'));
      const type = (message as { type?: unknown } | null)?.type;
      if (typeof type !== 'number') throw new Error('Invalid message: missing type.');
      return type;
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
  invocation: (target, args) => msgpackRecord([MessageType.Invocation, {}, null, target, args, []]),
  // Always three elements, [type, error, allowReconnect], with nil for no error, as ASP.NET Core writes them.
  close: (error, allowReconnect) => msgpackRecord([MessageType.Close, error || null, allowReconnect]),
  messageTypes: (data) =>
    binaryRecords(data).map((record) => {
      const message = decode(record);
      if (!Array.isArray(message) || typeof message[0] !== 'number') throw new Error('Invalid message: missing type.');
      return message[0];
    }),
};

export const hubProtocols: Readonly<Record<ProtocolName, HubProtocol>> = {
  json: jsonProtocol,
  messagepack: messagePackProtocol,
};
