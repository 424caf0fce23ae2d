import { plainToInstance, Transform } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

export type Env = Record<string, string | undefined>;

/** A configuration problem found at boot; its message never contains a value, only names and rules. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Validates the environment variables a config class declares, once, at boot.
 * Empty strings count as unset so `FOO=` behaves like no `FOO`. Messages name the variable and the rule,
 * never the value, so a mistyped secret is not echoed to the logs.
 */
export function validateEnv<T extends object>(schema: new () => T, env: Env): T {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const instance = plainToInstance(schema, present, { exposeDefaultValues: true });
  const errors = validateSync(instance, { validationError: { target: false, value: false } });
  if (errors.length > 0) throw new ConfigError(`Invalid configuration:\n${errors.map(describe).join('\n')}`);
  return instance;
}

function describe(error: ValidationError): string {
  return `  - ${error.property}: ${Object.values(error.constraints ?? {}).join('; ')}`;
}

/** A comma-separated variable as a list: items trimmed, empty ones dropped (`a, b,` is `['a', 'b']`). */
export const CommaSeparated = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    String(value)
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );
