import { Injectable, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { ProblemException, type FieldError } from './problem.js';

/** Where a validated value came from, as named in field errors: `path.hub`, `query.ttl`, `body.target`. */
const SOURCES: Record<ArgumentMetadata['type'], string> = { param: 'path', query: 'query', body: 'body', custom: 'custom' };

/** Carries class-validator's errors from the exception factory to `transform`, which knows their source. */
class InvalidValue extends Error {
  constructor(readonly errors: ValidationError[]) {
    super('validation failed');
  }
}

/** A key Nest's pipe would silently delete (prototype-pollution guard), found at `path` inside the value. */
class ForbiddenKey extends Error {
  constructor(readonly path: string, readonly key: string) {
    super('forbidden key');
  }
}

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The gateway's one validation pipe: DTOs only, unknown properties rejected, values transformed.
 * A failure becomes a 400 problem (code `validation`) listing every field error with its source; the
 * exception factory alone cannot say whether `hub` came from the path or the query, so `transform` adds it.
 */
@Injectable()
export class ProblemValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: (errors) => new InvalidValue(errors) });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      const source = SOURCES[metadata.type];
      if (error instanceof ForbiddenKey) {
        throw validationProblem([{ field: `${source}${error.path}`, message: `must not contain the key "${error.key}" (refused as a prototype-pollution guard)` }]);
      }
      if (!(error instanceof InvalidValue)) throw error;
      throw validationProblem(fieldErrors(error.errors, source));
    }
  }

  /**
   * Nest deletes `__proto__`, `constructor` and `prototype` keys at any depth without a word, which would change a
   * message's arguments on the way: a message arrives whole or is refused, so such a key is refused, by its path.
   */
  override stripProtoKeys(value: unknown): void {
    const pending: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
    while (pending.length > 0) {
      const { value: current, path } = pending.pop()!;
      if (current === null || typeof current !== 'object') continue;
      for (const [key, child] of Object.entries(current)) {
        const childPath = Array.isArray(current) ? `${path}[${key}]` : `${path}.${key}`;
        if (PROTOTYPE_KEYS.has(key)) throw new ForbiddenKey(childPath, key);
        pending.push({ value: child, path: childPath });
      }
    }
  }
}

export function validationProblem(errors: FieldError[]): ProblemException {
  const detail = errors.length === 1 ? `${errors[0]!.field}: ${errors[0]!.message}` : `${errors.length} fields are invalid; see errors.`;
  return new ProblemException({ status: 400, code: 'validation', detail, errors });
}

function fieldErrors(errors: ValidationError[], parent: string): FieldError[] {
  return errors.flatMap((error) => {
    // A whole-value error (say, a JSON array where an object belongs) is reported on the source itself.
    const field = error.property === parent || error.property === undefined ? parent : `${parent}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}
