import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';
import { FromText } from '../../common/dto-validator.js';
import { IsName } from '../../common/names.js';
import { HubParams, HubQuery } from '../shared/hub.dto.js';

export class ConnectionParams extends HubParams {
  @IsName('connectionId')
  connectionId: string;
}

export class CloseConnectionQuery extends HubQuery {
  @IsName('reason', { optional: true })
  reason?: string;
}

/** What the client's handler returned (`connection.on(method, () => value)`). */
export class InvocationResultDto {
  @ApiProperty({
    description: "The client's result: any JSON value; absent when the client completed without one.",
    required: false,
    example: { message: 'hello' },
  })
  result?: unknown;
}

export class StreamParams extends ConnectionParams {
  @IsName('streamId')
  streamId: string;
}

export class StreamSendQuery extends HubQuery {
  @ApiProperty({ description: 'This item is the last: the stream completes after it.', required: false, type: 'boolean' })
  @FromText((text) => (text === 'true' ? true : text === 'false' ? false : text))
  @ValidateBy({
    name: 'is-completed',
    validator: { validate: (value) => value === undefined || typeof value === 'boolean', defaultMessage: () => 'completed must be true or false' },
  })
  completed?: boolean;
}

export class StreamCompleteQuery extends HubQuery {
  @IsName('reason', { optional: true, description: "The stream's error, as the client sees it; absent: the stream completes normally." })
  reason?: string;
}

/** One item of a client's stream. */
export class StreamItemDto {
  @ApiProperty({ description: "The item, any JSON value: the client's stream subscriber gets it as `next(item)`.", example: { price: 42 } })
  @ValidateBy({ name: 'is-item', validator: { validate: (value) => value !== undefined, defaultMessage: () => 'item is required' } })
  item: unknown;
}
