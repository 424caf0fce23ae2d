import { DEV_AUDIENCE, DEV_EMULATOR_ACCESS_KEY, DEV_EMULATOR_PORT, DEV_SSO_PORT } from './dev-defaults.js';
import { IntegerFrom, validateEnv, type Env } from './validate-env.js';

/** Ports of the embedded parts, for when the defaults are taken. Fixed ports: their addresses are known before they start. */
class DevelopmentEnv {
  @IntegerFrom(1, 65535)
  EMULATOR_PORT = DEV_EMULATOR_PORT;

  @IntegerFrom(1, 65535)
  DEV_SSO_PORT = DEV_SSO_PORT;
}

/**
 * `npm start`'s embedded parts: each stands in for an upstream the environment leaves unset, outside production only.
 * The development stack starts what this says; the rest of the config is built against their addresses beforehand,
 * so every setting is checked before anything starts.
 */
export class DevelopmentConfig {
  /** Set when neither SIGNALR_CONNECTION_STRING nor SIGNALR_ENDPOINTS is: the embedded SignalR emulator listens on 127.0.0.1 at this port. */
  readonly emulatorPort!: number | undefined;
  /** Set when SSO_ISSUER is not: the development SSO issuer listens on 127.0.0.1 at this port. */
  readonly ssoPort!: number | undefined;

  constructor(options: DevelopmentConfig) {
    Object.assign(this, options);
  }

  static fromEnv(env: Env): DevelopmentConfig {
    if (env['NODE_ENV'] === 'production') return new DevelopmentConfig({ emulatorPort: undefined, ssoPort: undefined });
    const e = validateEnv(DevelopmentEnv, env);
    return new DevelopmentConfig({
      emulatorPort: env['SIGNALR_CONNECTION_STRING'] || env['SIGNALR_ENDPOINTS'] ? undefined : e.EMULATOR_PORT,
      ssoPort: env['SSO_ISSUER'] ? undefined : e.DEV_SSO_PORT,
    });
  }
}

/** The variables the embedded parts stand in for, with the addresses they will listen at. */
export function embeddedEnv({ emulatorPort, ssoPort }: DevelopmentConfig): Env {
  return {
    ...(emulatorPort !== undefined && {
      SIGNALR_CONNECTION_STRING: `Endpoint=http://127.0.0.1:${emulatorPort};AccessKey=${DEV_EMULATOR_ACCESS_KEY};Version=1.0;`,
    }),
    ...(ssoPort !== undefined && { SSO_ISSUER: `http://127.0.0.1:${ssoPort}`, SSO_AUDIENCE: DEV_AUDIENCE }),
  };
}
