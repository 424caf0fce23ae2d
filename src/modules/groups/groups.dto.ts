import { ApiProperty } from '@nestjs/swagger';
import { IsName, IsNameList } from '../../common/names.js';
import { ProblemDto } from '../../common/problem.dto.js';
import { HubParams, PayloadDto } from '../shared/hub.dto.js';

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
