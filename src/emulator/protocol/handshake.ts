import { hubProtocols, type HubProtocol } from './hub-protocol.js';

const RECORD_SEPARATOR = 0x1e;
const SUPPORTED_VERSION = 1;

export type HandshakeResult = { kind: 'ok'; protocol: HubProtocol; rest: Buffer } | { kind: 'error'; error: string };

/** True when `chunk` holds the record separator that ends a handshake request. */
export const endsHandshake = (chunk: Buffer): boolean => chunk.includes(RECORD_SEPARATOR);

export const handshakeTooLarge = (maxBytes: number): string => `The handshake request exceeds the maximum size of ${maxBytes} bytes.`;

/**
 * Reads a complete handshake request (`data` holds its record separator). The request is one JSON record, even
 * for MessagePack; bytes after it belong to the hub protocol. Like ASP.NET Core, which applies its maximum message
 * size to the handshake, a request over `maxBytes` is refused.
 */
export function parseHandshake(data: Buffer, transportSupportsBinary: boolean, maxBytes: number): HandshakeResult {
  const end = data.indexOf(RECORD_SEPARATOR);
  if (end > maxBytes) return { kind: 'error', error: handshakeTooLarge(maxBytes) };
  let request: { protocol?: unknown; version?: unknown };
  try {
    request = JSON.parse(data.subarray(0, end).toString('utf8')) as typeof request;
  } catch {
    return { kind: 'error', error: 'Handshake request is not valid JSON.' };
  }
  const name = String(request?.protocol);
  const protocol = Object.hasOwn(hubProtocols, name) ? hubProtocols[name as keyof typeof hubProtocols] : undefined;
  // ASP.NET Core's error strings, which the client shows as "Server returned handshake error: ...".
  if (!protocol) return { kind: 'error', error: `The protocol '${name}' is not supported.` };
  if (request.version !== SUPPORTED_VERSION) {
    return { kind: 'error', error: `The server does not support version ${String(request.version)} of the '${name}' protocol.` };
  }
  if (protocol.binary && !transportSupportsBinary) {
    return {
      kind: 'error',
      error: `Cannot use the '${name}' protocol on the current transport. The transport does not support 'Binary' transfer format.`,
    };
  }
  return { kind: 'ok', protocol, rest: data.subarray(end + 1) };
}

export const handshakeResponse = (error?: string): Buffer => Buffer.from(JSON.stringify(error ? { error } : {}) + '\x1e');
