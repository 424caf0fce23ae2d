import { pino } from 'pino';
import { startEmulator, WELL_KNOWN_ACCESS_KEY, type EmulatorOptions, type RunningEmulator } from './emulator.js';
import type { EntraOptions } from './entra.js';

/** An optional positive whole number from the environment; startEmulator applies the default when it is unset. */
function positiveFromEnvironment(name: string, unit: string): number | undefined {
  const value = process.env[name];
  if (!value) return undefined;
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`${name} must be a positive whole number of ${unit}.`);
  return Number(value);
}

/** Entra mode when EMULATOR_ENTRA_ISSUER is set; it turns local auth off, so EMULATOR_ACCESS_KEY may not be set too. */
function entraFromEnvironment(): EntraOptions | undefined {
  const issuer = process.env['EMULATOR_ENTRA_ISSUER'];
  if (!issuer) return undefined;
  if (!/^https?:\/\/\S+$/.test(issuer)) throw new Error('EMULATOR_ENTRA_ISSUER must be an http(s) URL, the `iss` of the trusted tokens.');
  if (process.env['EMULATOR_ACCESS_KEY'])
    throw new Error(
      'EMULATOR_ACCESS_KEY and EMULATOR_ENTRA_ISSUER exclude each other: Entra mode refuses AccessKey-signed tokens, as Azure with local auth disabled.',
    );
  const seconds = (name: string): number | undefined => {
    const value = positiveFromEnvironment(name, 'seconds');
    return value === undefined ? undefined : value * 1000;
  };
  return {
    issuer,
    audience: process.env['EMULATOR_ENTRA_AUDIENCE'] || undefined,
    keyRotationMs: seconds('EMULATOR_ENTRA_KEY_ROTATION_SECONDS'),
    keyOverlapMs: seconds('EMULATOR_ENTRA_KEY_OVERLAP_SECONDS'),
  };
}

/**
 * `npm run emulator`: the emulator on its own, configured by EMULATOR_HOST, EMULATOR_PORT, EMULATOR_ACCESS_KEY,
 * EMULATOR_MAX_HANDSHAKE_BYTES, EMULATOR_MAX_OUTBOUND_BUFFER_BYTES and, for Entra mode, EMULATOR_ENTRA_ISSUER,
 * EMULATOR_ENTRA_AUDIENCE, EMULATOR_ENTRA_KEY_ROTATION_SECONDS and EMULATOR_ENTRA_KEY_OVERLAP_SECONDS. Its metrics are
 * at `/metrics` on its own port.
 */
async function main(): Promise<void> {
  const port = Number(process.env['EMULATOR_PORT'] || 8888);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('EMULATOR_PORT must be a port number (0-65535).');
  const entra = entraFromEnvironment();
  const accessKey = entra ? undefined : process.env['EMULATOR_ACCESS_KEY'] || WELL_KNOWN_ACCESS_KEY;
  const emulator = await portNamed('EMULATOR_PORT', {
    host: process.env['EMULATOR_HOST'] || '127.0.0.1',
    port,
    accessKey,
    entra,
    maxHandshakeBytes: positiveFromEnvironment('EMULATOR_MAX_HANDSHAKE_BYTES', 'bytes'),
    maxOutboundBufferBytes: positiveFromEnvironment('EMULATOR_MAX_OUTBOUND_BUFFER_BYTES', 'bytes'),
    logger: pino({ name: 'signalr-emulator' }),
    processMetrics: true,
  });
  // The well-known key is public; a key of your own is shown only as the variable it came from.
  const shown =
    accessKey === undefined || accessKey === WELL_KNOWN_ACCESS_KEY
      ? emulator.connectionString
      : emulator.connectionString.replace(accessKey, '<EMULATOR_ACCESS_KEY>');
  console.log(shown);

  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Starts the emulator; a taken port fails with a message naming the variable to change (as the gateway's do). */
async function portNamed(variable: string, options: EmulatorOptions): Promise<RunningEmulator> {
  try {
    return await startEmulator(options);
  } catch (error) {
    const { code, address, port } = error as { code?: string; address?: string; port?: number };
    if (code !== 'EADDRINUSE') throw error;
    throw new Error(`Cannot listen on ${address}:${port}: the port is in use. Stop what holds it or set ${variable} to a free port.`, { cause: error });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
