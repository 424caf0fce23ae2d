import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { decode } from '@msgpack/msgpack';
import { ValidateBy } from 'class-validator';
import { FromText } from '../../common/dto-validator.js';
import { IsName } from '../../common/names.js';
import { BinaryBody, sourceTextOf } from '../../common/json-body.js';
import { ProblemException } from '../../common/problem.js';
import { ProblemValidationPipe } from '../../common/validation.pipe.js';
import type { JsonPayload, Payload } from '../../signalr/endpoint-client.js';
import type { Attempts, HubScope } from '../../signalr/urls.js';

/** Path of every hub-scoped operation. */
export class HubParams {
  @IsName('hub')
  hub: string;
}

/** Query of every hub-scoped operation. */
export class HubQuery {
  @IsName('hub', {
    optional: true,
    description: 'Application name, a prefix that isolates hubs sharing one SignalR instance. Same rule as hub; lowercased upstream.',
  })
  application?: string;
}

/** A repeatable query parameter (`?excluded=a&excluded=b`) arrives as a string once and an array when repeated. */
const toList = (text: unknown): unknown => [text].flat();

/** Query of the `:send` operations that reach more than one connection. */
export class SendQuery extends HubQuery {
  @FromText(toList)
  @IsName('connectionId', { each: true, optional: true, description: 'Connection ids to leave out; repeat the parameter for each.' })
  excluded?: string[];
}

/** Query of the `:closeConnections` operations. */
export class CloseQuery extends SendQuery {
  @IsName('reason', { optional: true })
  reason?: string;
}

/** The message clients receive: `connection.on(target, (...arguments) => ...)`. */
export class PayloadDto {
  @ApiProperty({ description: 'The client method to invoke.', minLength: 1, example: 'newMessage' })
  @ValidateBy({
    name: 'is-target',
    validator: { validate: (value) => typeof value === 'string' && value.length > 0, defaultMessage: () => 'target must be a non-empty string' },
  })
  target: string;

  @ApiProperty({
    description: 'The arguments of the client method, any JSON values.',
    type: 'array',
    items: {},
    required: false,
    default: [],
    example: ['hello'],
  })
  @ValidateBy({
    name: 'is-arguments',
    validator: { validate: (value) => value === undefined || Array.isArray(value), defaultMessage: () => 'arguments must be an array' },
  })
  // Opaque JSON for the clients: only its type is checked, and it is forwarded as the very text the caller sent.
  arguments?: unknown[];
}

/** What the upstream client needs to address a hub, and where it reports each attempt's outcome (the request's `@UpstreamAttempts()`). */
export const scopeOf = ({ hub }: HubParams, { application }: HubQuery, attempts?: Attempts): HubScope => ({ hub, application, attempts });

/** The body of a send-like operation: JSON (a PayloadDto), or the binary form Azure's SDK sends (forwarded as it came). */
export type MessagePayload = PayloadDto | BinaryBody;

/** The payload as the upstream client takes it: the arguments as sent, `[]` when there were none; binary bytes as they came. */
export function payloadOf(payload: PayloadDto): JsonPayload;
export function payloadOf(payload: MessagePayload): Payload;
export function payloadOf(payload: MessagePayload): Payload {
  if (payload instanceof BinaryBody) return { contentType: payload.contentType, bytes: payload.bytes };
  const { target, arguments: args } = payload;
  return { target, argumentsJson: args === undefined ? '[]' : sourceTextOf(args) };
}

/** The hub protocols a binary payload may carry a serialised message for (Azure's SDK: `json`, `messagepack`). */
const HUB_PROTOCOL_NAMES = new Set(['json', 'messagepack']);

/**
 * Why a binary payload is not what Azure's .NET SDK sends (`BinaryPayloadMessageContent`): a MessagePack map from hub
 * protocol name to the message serialised in that protocol (bin); undefined when it is. The messages themselves are
 * the service's to read: they are forwarded untouched.
 */
export function binaryPayloadError(bytes: Uint8Array): string | undefined {
  let map: unknown;
  try {
    map = decode(bytes, { maxStrLength: 64, maxArrayLength: 0, maxMapLength: 8 });
  } catch {
    return 'body must be MessagePack: a map from hub protocol name to the serialised message';
  }
  if (typeof map !== 'object' || map === null || Array.isArray(map) || map instanceof Uint8Array) return 'body must be a MessagePack map';
  const entries = Object.entries(map);
  if (entries.length === 0) return 'body must carry the message for at least one hub protocol';
  for (const [name, message] of entries) {
    if (!HUB_PROTOCOL_NAMES.has(name)) return `body: unknown hub protocol "${name}" (json, messagepack)`;
    if (!(message instanceof Uint8Array) || message.length === 0) return `body.${name} must be the serialised message (MessagePack bin)`;
  }
  return undefined;
}

/**
 * The body pipe of the send-like operations: a JSON body is validated as PayloadDto by the gateway's pipe; a binary
 * body (the content-type parser lets it through on these routes only) is checked for the SDK's shape and kept as bytes.
 */
@Injectable()
export class MessagePayloadPipe implements PipeTransform {
  private readonly json = new ProblemValidationPipe();

  transform(value: unknown): MessagePayload {
    if (!(value instanceof BinaryBody)) return this.json.transform(value, { type: 'body', metatype: PayloadDto }) as PayloadDto;
    const error = binaryPayloadError(value.bytes);
    if (error !== undefined) throw new ProblemException({ status: 400, code: 'validation', detail: error, errors: [{ field: 'body', message: error }] });
    return value;
  }
}
