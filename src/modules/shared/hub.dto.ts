import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ValidateBy } from 'class-validator';
import { IsName } from '../../common/names.js';
import { sourceTextOf } from '../../common/json-body.js';
import type { Payload } from '../../signalr/signalr.client.js';
import type { HubScope } from '../../signalr/urls.js';

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
const toList = ({ value }: { value: unknown }): unknown => (value === undefined ? undefined : [value].flat());

/** Query of the `:send` operations that reach more than one connection. */
export class SendQuery extends HubQuery {
  @Transform(toList)
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

/** What the upstream client needs to address a hub. */
export const scopeOf = ({ hub }: HubParams, { application }: HubQuery): HubScope => ({ hub, application });

/** The payload as the upstream client takes it: the arguments as sent, `[]` when there were none. */
export const payloadOf = ({ target, arguments: args }: PayloadDto): Payload => ({ target, argumentsJson: args === undefined ? '[]' : sourceTextOf(args) });
