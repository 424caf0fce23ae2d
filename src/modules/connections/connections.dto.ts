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
