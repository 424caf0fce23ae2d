import { Injectable } from '@nestjs/common';
import { insufficientScope } from '../../auth/auth.problems.js';
import { allows } from '../../auth/permissions.js';
import type { Principal } from '../../auth/token-verifier.js';
import { addressedHub } from '../../common/names.js';
import { SignalRClient } from '../../signalr/signalr.client.js';
import type { Attempts } from '../../signalr/urls.js';
import type { HubParams } from '../shared/hub.dto.js';
import { COMMAND_PERMISSIONS, type ExecuteCommand, type ExecuteQuery } from './execute.dto.js';

/** `:execute`: commands for every connection matching a filter, each kind allowed by its own permission. */
@Injectable()
export class ExecuteService {
  constructor(private readonly signalr: SignalRClient) {}

  async run({ hub }: HubParams, { filter }: ExecuteQuery, commands: ExecuteCommand[], principal: Principal, attempts: Attempts): Promise<void> {
    const addressed = addressedHub(hub);
    for (const permission of new Set(commands.map(({ type }) => COMMAND_PERMISSIONS[type]))) {
      if (!allows(principal.grants, permission, addressed)) throw insufficientScope(permission, addressed);
    }
    await this.signalr.execute({ hub, attempts }, JSON.stringify(commands), filter);
  }
}
