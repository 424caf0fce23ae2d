import { Controller, Get, HttpCode, Module, Param, Post, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { AppModule } from '../../src/app.module.js';
import { Authenticated, CurrentPrincipal, Public, RequirePermission } from '../../src/auth/auth.decorators.js';
import type { Principal } from '../../src/auth/token-verifier.js';
import { PinoNestLogger, RequestLogController } from '../../src/common/logging.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { Env } from '../../src/config/validate-env.js';

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

@Module({})
class ProbeModule {
  static forRoot(env: Env): DynamicModule {
    return { module: ProbeModule, imports: [AppModule.forRoot(loadConfig(env))], controllers: [ProbeController] };
  }
}

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

/** The gateway's app module (config, SSO, problem filter) plus the probe routes, on Fastify, listening on 127.0.0.1:0. */
export async function startProbeGateway(env: Env): Promise<{ url: string; app: NestFastifyApplication }> {
  const log = capturedLogger();
  const adapter = new FastifyAdapter({ loggerInstance: log, logController: new RequestLogController() });
  const app = await NestFactory.create<NestFastifyApplication>(
    ProbeModule.forRoot({ SIGNALR_CONNECTION_STRING: `Endpoint=http://127.0.0.1:1;AccessKey=${ACCESS_KEY};Version=1.0;`, ...env }),
    adapter,
    { logger: new PinoNestLogger(log) },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: await app.getUrl(), app };
}
