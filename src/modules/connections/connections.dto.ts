import { ApiProperty } from '@nestjs/swagger';
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
