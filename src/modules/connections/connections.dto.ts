import { HubParams, HubQuery } from '../../common/hub.dto.js';
import { IsName } from '../../common/names.js';

export class ConnectionParams extends HubParams {
  @IsName('connectionId')
  connectionId: string;
}

export class CloseConnectionQuery extends HubQuery {
  @IsName('reason', { optional: true })
  reason?: string;
}
