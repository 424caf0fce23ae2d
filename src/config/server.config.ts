import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { CommaSeparated, validateEnv, type Env } from './validate-env.js';

class ServerEnv {
  @Type(() => Number) @IsInt() @Min(0) @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '127.0.0.1';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Comma-separated browser origins allowed by CORS (negotiate, demo page). */
  @IsOptional()
  @CommaSeparated()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { each: true })
  CORS_ORIGINS: string[] = [];

  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';
}

/** How the gateway's own HTTP server listens and logs. */
export class ServerConfig {
  constructor(
    readonly port: number,
    readonly host: string,
    readonly logLevel: string,
    readonly corsOrigins: readonly string[],
    readonly production: boolean,
  ) {}

  static fromEnv(env: Env): ServerConfig {
    const e = validateEnv(ServerEnv, env);
    return new ServerConfig(e.PORT, e.HOST, e.LOG_LEVEL, e.CORS_ORIGINS, e.NODE_ENV === 'production');
  }
}
