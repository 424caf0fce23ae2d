import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';
import { FromText } from '../../common/dto-validator.js';
import { IsName, IsNameList } from '../../common/names.js';
import { ProblemDto } from '../../common/problem.dto.js';
import { HubParams, HubQuery, PayloadDto } from '../shared/hub.dto.js';

/** Most users one `:sendToUsers` call may address; each is one upstream call. */
export const MAX_USERS_PER_SEND = 100;
/** Longest membership `ttl`: one year, Azure's cap for memberships without one. */
export const TTL_MAX_SECONDS = 365 * 24 * 60 * 60;

export class UserParams extends HubParams {
  @IsName('user')
  user: string;
}

export class UserGroupParams extends UserParams {
  @IsName('group')
  group: string;
}

export class TtlQuery extends HubQuery {
  @ApiProperty({
    description: 'Seconds the membership lasts for connections the user opens later; 0 adds only the current connections. Absent: at most a year.',
    required: false,
    type: 'integer',
    format: 'int32',
    minimum: 0,
    maximum: TTL_MAX_SECONDS,
  })
  // Only plain digits become a number: Number('') is 0 and Number('1e3') is 1000, neither of which the caller wrote.
  @FromText((text) => (typeof text === 'string' && /^\d{1,9}$/.test(text) ? Number(text) : text))
  @ValidateBy({
    name: 'is-ttl',
    validator: {
      validate: (value) => value === undefined || (Number.isInteger(value) && value >= 0 && value <= TTL_MAX_SECONDS),
      defaultMessage: () => `ttl must be an integer from 0 to ${TTL_MAX_SECONDS}`,
    },
  })
  ttl?: number;
}

/** One message to several users. */
export class SendToUsersDto extends PayloadDto {
  @IsNameList('user', MAX_USERS_PER_SEND, `The users to send to: 1-${MAX_USERS_PER_SEND}, distinct.`)
  users: string[];
}

export class UserOutcomeDto {
  @ApiProperty()
  user: string;

  /** The status the send to this user got: 202 when accepted. */
  @ApiProperty({ example: 202 })
  status: number;

  /** Why the send to this user failed. */
  @ApiProperty({ required: false, type: ProblemDto })
  problem?: ProblemDto;
}

export class SendToUsersResultDto {
  /** One per user, in the order they were given. */
  @ApiProperty({ type: [UserOutcomeDto] })
  results: UserOutcomeDto[];
}
