import { jsonCompatible, type HubProtocol, type ProtocolName, type SerialisedInvocation } from './hub-protocol.js';

/**
 * One message on its way to many connections: serialized at most once per protocol, however many
 * connections receive it, and only for the protocols those connections actually speak.
 */
export class OutboundMessage {
  private readonly encoded = new Map<ProtocolName, Buffer>();

  private constructor(private readonly encode: (protocol: HubProtocol) => Buffer) {}

  static invocation(target: string, args: readonly unknown[]): OutboundMessage {
    return new OutboundMessage((protocol) => protocol.invocation(target, args));
  }

  /**
   * A message serialised by the sender per hub protocol (a binary REST payload): each client gets the bytes for its
   * protocol as they came; a protocol the sender left out gets `invocation` encoded by the emulator (bin values become
   * base64 for JSON clients).
   */
  static serialised(bytes: Partial<Record<ProtocolName, Buffer>>, invocation: SerialisedInvocation): OutboundMessage {
    return new OutboundMessage(
      (protocol) => bytes[protocol.name] ?? protocol.invocation(invocation.target, protocol.binary ? invocation.args : jsonCompatible(invocation.args)),
    );
  }

  /** A client invocation: it carries an id, so the one client it goes to answers with a Completion. */
  static clientInvocation(target: string, args: readonly unknown[], invocationId: string): OutboundMessage {
    return new OutboundMessage((protocol) => protocol.invocation(target, protocol.binary ? args : jsonCompatible(args), invocationId));
  }

  for(protocol: HubProtocol): Buffer {
    let bytes = this.encoded.get(protocol.name);
    if (!bytes) {
      bytes = this.encode(protocol);
      this.encoded.set(protocol.name, bytes);
    }
    return bytes;
  }
}
