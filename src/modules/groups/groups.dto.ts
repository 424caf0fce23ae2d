import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';
import { FromText } from '../../common/dto-validator.js';
import { IsName, IsNameList } from '../../common/names.js';
import { ProblemDto } from '../../common/problem.dto.js';
import { HubParams, HubQuery, PayloadDto } from '../shared/hub.dto.js';

/** Most groups one `:sendToGroups` call may address; each is one upstream call. */
export const MAX_GROUPS_PER_SEND = 100;

export class GroupParams extends HubParams {
  @IsName('group')
  group: string;
}

export class GroupConnectionParams extends GroupParams {
  @IsName('connectionId')
  connectionId: string;
}

/** One message to several groups. */
export class SendToGroupsDto extends PayloadDto {
  @IsNameList('group', MAX_GROUPS_PER_SEND, `The groups to send to: 1-${MAX_GROUPS_PER_SEND}, distinct.`)
  groups: string[];
}

export class GroupOutcomeDto {
  @ApiProperty()
  group: string;

  /** The status the send to this group got: 202 when accepted. */
  @ApiProperty({ example: 202 })
  status: number;

  /** Why the send to this group failed. */
  @ApiProperty({ required: false, type: ProblemDto })
  problem?: ProblemDto;
}

export class SendToGroupsResultDto {
  /** One per group, in the order they were given. */
  @ApiProperty({ type: [GroupOutcomeDto] })
  results: GroupOutcomeDto[];
}

/** Most connections one page holds (Azure's `maxpagesize`, 1-200, default 200). */
export const MAX_PAGE_SIZE = 200;
const INT32_MAX = 2 ** 31 - 1;

/** Only plain digits become a number: Number('') is 0 and Number('1e3') is 1000, neither of which the caller wrote. */
const digits = (text: unknown): unknown => (typeof text === 'string' && /^\d{1,10}$/.test(text) ? Number(text) : text);

function IntegerIn(name: string, minimum: number, maximum: number): PropertyDecorator {
  return ValidateBy({
    name: `is-${name}`,
    validator: {
      validate: (value) => value === undefined || (Number.isInteger(value) && (value as number) >= minimum && (value as number) <= maximum),
      defaultMessage: () => `${name} must be an integer from ${minimum} to ${maximum}`,
    },
  });
}

/** Query of listing a group's connections (Azure 2024-12-01). */
export class ListGroupConnectionsQuery extends HubQuery {
  @ApiProperty({
    description: `Most connections in one page: 1-${MAX_PAGE_SIZE} (default ${MAX_PAGE_SIZE}).`,
    required: false,
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
  })
  @FromText(digits)
  @IntegerIn('maxpagesize', 1, MAX_PAGE_SIZE)
  maxpagesize?: number;

  @ApiProperty({
    description: 'Most connections in all pages together; absent: all of them.',
    required: false,
    type: 'integer',
    minimum: 1,
    maximum: INT32_MAX,
  })
  @FromText(digits)
  @IntegerIn('top', 1, INT32_MAX)
  top?: number;

  @IsName('continuationToken', { optional: true })
  continuationToken?: string;
}

export class GroupMemberDto {
  @ApiProperty({ example: 'c1' })
  connectionId: string;

  @ApiProperty({ required: false, example: 'alice', description: 'Absent for an anonymous connection.' })
  userId?: string;
}

export class GroupMemberPageDto {
  @ApiProperty({ type: [GroupMemberDto] })
  value: GroupMemberDto[];

  @ApiProperty({
    required: false,
    format: 'uri-reference',
    description: "The gateway's URL of the next page (path and query, relative to the gateway); absent on the last page.",
    example: '/api/hubs/chat/groups/g1/connections?maxpagesize=100&continuationToken=abc',
  })
  nextLink?: string;
}
