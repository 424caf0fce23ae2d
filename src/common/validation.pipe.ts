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
      if (!(error instanceof InvalidValue)) throw error;
      throw validationProblem(fieldErrors(error.errors, SOURCES[metadata.type]));
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
