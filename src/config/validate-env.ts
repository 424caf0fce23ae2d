import { plainToInstance, Transform, Type } from 'class-transformer';
import { validateSync, ValidateBy, type ValidationError } from 'class-validator';

export type Env = Record<string, string | undefined>;

/** One thing wrong with the environment: the variable and the rule it breaks, never its value (it may be a secret). */
export interface ConfigProblem {
  variable: string;
  rule: string;
}

/** The configuration problems found at boot, every one at once, each on its own line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly ConfigProblem[]) {
    super(`Invalid configuration:\n${problems.map(({ variable, rule }) => `  - ${variable}: ${rule}`).join('\n')}`);
  }
}

/**
 * Validates the environment variables a schema class declares. Empty strings count as unset so `FOO=` behaves
 * like no `FOO`. One problem per variable: its first broken rule (a second rule broken by the same value says nothing new).
 */
export function validateEnv<T extends object>(schema: new () => T, env: Env): T {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const instance = plainToInstance(schema, present, { exposeDefaultValues: true });
  const errors = validateSync(instance, { stopAtFirstError: true, validationError: { target: false, value: false } });
  if (errors.length > 0) throw new ConfigError(errors.map(problemOf));
  return instance;
}

function problemOf({ property, constraints }: ValidationError): ConfigProblem {
  // class-validator's own messages start with the property name, which the problem already names.
  const rule = Object.values(constraints ?? {})[0] ?? 'is invalid';
  return { variable: property, rule: rule.startsWith(`${property} `) ? rule.slice(property.length + 1) : rule };
}

/** A comma-separated variable as a list: items trimmed, empty ones dropped (`a, b,` is `['a', 'b']`). */
export const CommaSeparated = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    String(value)
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

/** A whole number from `min` to `max`, with one message whatever is wrong (`abc`, `1.5` and `-1` alike). */
export const IntegerFrom = (min: number, max: number): PropertyDecorator => {
  const type = Type(() => Number);
  const range = ValidateBy({
    name: 'integerFrom',
    validator: {
      validate: (value: unknown) => Number.isInteger(value) && (value as number) >= min && (value as number) <= max,
      defaultMessage: () => `must be a whole number from ${min} to ${max}`,
    },
  });
  return (target, property) => {
    type(target, property);
    range(target, property);
  };
};
