import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min } from 'class-validator';
import { ConnectionStringError, parseConnectionString, type SignalRConnection } from '../signalr/connection-string.js';
import { ConfigError, validateEnv, type Env } from './validate-env.js';

class SignalREnv {
  @IsString({ message: 'is required, e.g. Endpoint=https://<name>.service.signalr.net;AccessKey=<key>;Version=1.0;' })
  SIGNALR_CONNECTION_STRING: string;

  /** One deadline for a whole upstream call: connecting and Azure's status; a body still arriving then is cut off. */
  @Type(() => Number) @IsInt() @Min(1) @Max(300_000)
  UPSTREAM_TIMEOUT_MS = 10_000;

  /** Lifetime of client tokens from negotiate; REST tokens use it too, capped at Azure's 1 hour. */
  @Type(() => Number) @IsInt() @Min(60) @Max(86_400)
  SIGNALR_TOKEN_LIFETIME_S = 3600;
}

/** Where Azure SignalR Service is and how the gateway talks to it. The AccessKey is a Secret: never printed. */
export class SignalRConfig {
  constructor(
    readonly connection: SignalRConnection,
    readonly timeoutMs: number,
    readonly tokenLifetimeSeconds: number,
  ) {}

  static fromEnv(env: Env): SignalRConfig {
    const e = validateEnv(SignalREnv, env);
    return new SignalRConfig(parsed(e.SIGNALR_CONNECTION_STRING), e.UPSTREAM_TIMEOUT_MS, e.SIGNALR_TOKEN_LIFETIME_S);
  }
}

function parsed(connectionString: string): SignalRConnection {
  try {
    return parseConnectionString(connectionString);
  } catch (error) {
    if (error instanceof ConnectionStringError) throw new ConfigError(`Invalid configuration:\n  - SIGNALR_CONNECTION_STRING: ${error.message}`);
    throw error;
  }
}
