import type { HubProtocol, ProtocolName } from './hub-protocol.js';

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

  /** A client invocation: it carries an id, so the one client it goes to answers with a Completion. */
  static clientInvocation(target: string, args: readonly unknown[], invocationId: string): OutboundMessage {
    return new OutboundMessage((protocol) => protocol.invocation(target, args, invocationId));
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
