import { Controller, Get, HttpCode, Module, Param, Post } from '@nestjs/common';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { Authenticated, CurrentPrincipal, Public, RequirePermission } from '../../src/auth/auth.decorators.js';
import type { Principal } from '../../src/auth/token-verifier.js';

/** Routes shaped like the gateway's own, declared with the real decorators, so the guard is tested on its own. */
@Controller()
class ProbeController {
  @Post('probe/hubs/:hub/::send')
  @HttpCode(202)
  @RequirePermission('signalr.send')
  send(@Param('hub') hub: string): { hub: string } {
    return { hub };
  }

  @Get('probe/hubs/:hub/groups/:group')
  @RequirePermission('signalr.read')
  exists(@Param('group') group: string): { group: string } {
    return { group };
  }

  @Get('me')
  @Authenticated()
  me(@CurrentPrincipal() principal: Principal): { caller: string; user?: string } {
    return { caller: principal.caller, user: principal.user };
  }

  @Get('open')
  @Public()
  open(): { open: true } {
    return { open: true };
  }

  @Get('undeclared')
  undeclared(): { reached: true } {
    return { reached: true };
  }
}

/** The probe routes, for `startFullStack({ modules: [ProbeModule] })`: the real gateway (limits, request id, guard) serves them. */
@Module({ controllers: [ProbeController] })
export class ProbeModule {}

/** Every log line written by the gateways of this test run, to prove no token reaches the logs. */
export const logLines: string[] = [];
/** Deliberately without the production logger's redaction: the code itself must never hand a token to the logger. */
export const capturedLogger = (): Logger =>
  pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );

/** An AccessKey for config validation only; nothing is sent upstream by the probe routes. */
export const ACCESS_KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh';
/** An upstream nobody listens on (port 1), for `startFullStack({ upstream: NO_UPSTREAM })`. */
export const NO_UPSTREAM = { connectionString: `Endpoint=http://127.0.0.1:1;AccessKey=${ACCESS_KEY};Version=1.0;` };
