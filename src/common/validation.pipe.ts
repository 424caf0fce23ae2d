import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { dtoValidator } from './dto-validator.js';
import { ProblemException, type FieldError } from './problem.js';

/** Where a validated value came from, as named in field errors: `path.hub`, `query.ttl`, `body.target`. */
const SOURCES: Record<Exclude<ArgumentMetadata['type'], 'custom'>, string> = { param: 'path', query: 'query', body: 'body' };

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The gateway's one validation pipe, for the DTOs of paths, queries and bodies (anything else, such as the signed-in
 * principal, passes as it is).
 * Every failure becomes one 400 problem (code `validation`) listing each field error with its source:
 * - a `__proto__`, `constructor` or `prototype` key anywhere, by its path (a prototype-pollution guard; a message
 *   arrives whole or is refused, never with keys silently dropped);
 * - each key of the caller's that the DTO does not declare, judged on the caller's own keys (`toString` too);
 * - each rule of the DTO's decorators, run by its validator compiled once (dto-validator.ts).
 */
@Injectable()
export class ProblemValidationPipe implements PipeTransform {
  transform(value: unknown, { type, metatype }: ArgumentMetadata): unknown {
    if (type === 'custom' || metatype === undefined) return value;
    const validator = dtoValidator(metatype);
    if (validator === undefined) return value;
    const source = SOURCES[type];
    // No body at all is an empty one: the DTO's rules then name what is missing.
    const plain = value === undefined ? {} : value;
    if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
      throw validationProblem([{ field: source, message: `${source} must be a JSON object` }]);
    }
    refusePrototypeKeys(plain, source);
    // Path and query values are text that a DTO may convert (`ttl`, `excluded`). A body is JSON, already typed, and
    // is taken as it is.
    const { instance, errors } = validator.validate(plain, type !== 'body');
    if (errors.length > 0) throw validationProblem(errors.map(({ property, message }) => ({ field: `${source}.${property}`, message })));
    return instance;
  }
}

interface Visit {
  value: object;
  /** How this value is reached from its parent (`.key` or `[index]`); the path is built only for an error. */
  step: string;
  parent?: Visit;
}

/** Throws a validation problem for the first prototype key in `value`. Iterative: a body may nest deeper than the stack. */
function refusePrototypeKeys(value: object, source: string): void {
  const pending: Visit[] = [{ value, step: source }];
  while (pending.length > 0) {
    const visit = pending.pop()!;
    const isArray = Array.isArray(visit.value);
    // Object.keys, not Object.entries: a third of the time on an object of 80,000 keys.
    for (const key of Object.keys(visit.value)) {
      const child: unknown = (visit.value as Record<string, unknown>)[key];
      const step = isArray ? `[${key}]` : `.${key}`;
      if (PROTOTYPE_KEYS.has(key)) {
        const message = `must not contain the key "${key}" (refused as a prototype-pollution guard)`;
        throw validationProblem([{ field: pathOf(visit) + step, message }]);
      }
      if (typeof child === 'object' && child !== null) pending.push({ value: child, step, parent: visit });
    }
  }
}

function pathOf(visit: Visit): string {
  const steps: string[] = [];
  for (let at: Visit | undefined = visit; at !== undefined; at = at.parent) steps.push(at.step);
  return steps.reverse().join('');
}

/** The 400 of bad input: the one error's field and message as the detail, or how many there are. */
export function validationProblem(errors: FieldError[]): ProblemException {
  const detail = errors.length === 1 ? `${errors[0].field}: ${errors[0].message}` : `${errors.length} fields are invalid; see errors.`;
  return new ProblemException({ status: 400, code: 'validation', detail, errors });
}
