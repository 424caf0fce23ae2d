import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Type } from '@nestjs/common';
import { getMetadataStorage, IsOptional, registerDecorator, ValidateBy, ValidateIf, ValidateNested, validateSync } from 'class-validator';
import fc from 'fast-check';
import { dtoValidator, FromText, type PropertyError } from '../../src/common/dto-validator.js';
import { IsName } from '../../src/common/names.js';
import { ExecuteQuery } from '../../src/modules/execute/execute.dto.js';
import { GenerateTokenQuery } from '../../src/modules/negotiate/negotiate.dto.js';
import { CloseQuery, PayloadDto } from '../../src/modules/shared/hub.dto.js';
import { StreamSendQuery } from '../../src/modules/connections/connections.dto.js';
import { TtlQuery } from '../../src/modules/users/users.dto.js';

/** Every class with class-validator rules that a `*.dto.ts` of the feature modules exports: the request DTOs. */
async function requestDtos(): Promise<Type[]> {
  const root = fileURLToPath(new URL('../../src/modules/', import.meta.url));
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.dto.js'));
  const classes: Type[] = [];
  for (const file of files) {
    const exports = (await import(new URL(file, new URL('../../src/modules/', import.meta.url)).href)) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      if (typeof value === 'function' && getMetadataStorage().getTargetValidationMetadatas(value, '', false, false).length > 0) classes.push(value as Type);
    }
  }
  return classes;
}

/** What the pipe did before it was compiled, for a body: declared keys assigned to a new instance, class-validator's `validate`. */
function classValidatorErrors(metatype: Type, values: Record<string, unknown>): { instance: object; errors: PropertyError[] } {
  const declared = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(metatype, '', false, false)
      .map((rule) => rule.propertyName),
  );
  const instance = new metatype() as Record<string, unknown>;
  const errors: PropertyError[] = [];
  for (const key of Object.keys(values)) {
    if (declared.has(key)) instance[key] = values[key];
    else errors.push({ property: key, message: `property ${key} should not exist` });
  }
  for (const error of validateSync(instance)) {
    for (const message of Object.values(error.constraints ?? {})) errors.push({ property: error.property, message });
  }
  return { instance, errors };
}

/** What `validate` gives, or the message of what it throws: a rule's message may throw on a value no request carries. */
function outcome<T extends object>(validate: () => T): T | { threw: string } {
  try {
    return validate();
  } catch (error) {
    return { threw: String(error) };
  }
}

// Without `$`: class-validator filled its message tokens in even inside the caller's text (see below).
const text = fc
  .oneof(
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.constantFrom('', ' ', '.', '..', 'a', 'Chat', 'u1', '1', '0', '60', '1e3', 'true', 'false', '\u0000', '\ud800', "userId eq 'a'", "userId eq 'a' or"),
    fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 1000, maxLength: 1030 }),
  )
  .filter((value) => !value.includes('$'));
const value = fc.oneof(
  text,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constantFrom('a', 'b', '.', '', 'c 1'), { maxLength: 4 }),
  fc.array(text, { maxLength: 3 }),
  fc.array(fc.jsonValue(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 2 }),
);
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

describe('the compiled DTO validator', () => {
  it("finds the same errors, in the same order, with the same messages as class-validator, on every request DTO's rules", async () => {
    const classes = await requestDtos();
    assert.ok(classes.length >= 20, classes.map((type) => type.name).join());
    for (const metatype of classes) {
      const declared = [
        ...new Set(
          getMetadataStorage()
            .getTargetValidationMetadatas(metatype, '', false, false)
            .map((rule) => rule.propertyName),
        ),
      ];
      const values = fc.record(Object.fromEntries(declared.map((name) => [name, value])), { requiredKeys: [] });
      const withUnknown = fc.tuple(
        values,
        fc.dictionary(
          fc.string().filter((key) => !PROTOTYPE_KEYS.has(key)),
          value,
          { maxKeys: 2 },
        ),
      );
      fc.assert(
        fc.property(withUnknown, ([known, unknown]) => {
          const sent = { ...unknown, ...known };
          const compiled = outcome(() => dtoValidator(metatype)!.validate(sent, false));
          assert.deepEqual(
            compiled,
            outcome(() => classValidatorErrors(metatype, sent)),
            `${metatype.name} ${JSON.stringify(sent)}`,
          );
          if (!('threw' in compiled)) assert.ok(compiled.instance instanceof metatype);
        }),
        { numRuns: 300 },
      );
    }
  });

  it('is undefined for a class without rules, and the same validator for a class every time', () => {
    class Plain {
      name: string;
    }
    assert.equal(dtoValidator(Plain), undefined);
    assert.equal(dtoValidator(PayloadDto), dtoValidator(PayloadDto));
  });

  it('converts path and query text with the conversions the class and its bases declare, and never a body', () => {
    const close = dtoValidator(CloseQuery)!;
    assert.deepEqual(close.validate({ excluded: 'c1', reason: 'bye' }, true).instance, Object.assign(new CloseQuery(), { excluded: ['c1'], reason: 'bye' }));
    assert.deepEqual(close.validate({ excluded: ['c1', 'c2'] }, true).instance, Object.assign(new CloseQuery(), { excluded: ['c1', 'c2'] }));
    assert.deepEqual(close.validate({ excluded: 'c1' }, false).errors, [], 'a single string passes an `each` rule as itself');
    assert.deepEqual(close.validate({ excluded: 'c1' }, false).instance, Object.assign(new CloseQuery(), { excluded: 'c1' }));

    const ttl = dtoValidator(TtlQuery)!;
    assert.deepEqual(ttl.validate({ ttl: '3600' }, true), { instance: Object.assign(new TtlQuery(), { ttl: 3600 }), errors: [] });
    const outOfRange = [{ property: 'ttl', message: 'ttl must be an integer from 0 to 31536000' }];
    for (const sent of ['1e3', '', '1.5', '-1', '0000000001', '31536001']) assert.deepEqual(ttl.validate({ ttl: sent }, true).errors, outOfRange, sent);
    assert.deepEqual(ttl.validate({ ttl: '3600' }, false).errors, outOfRange, 'a body is not converted');

    const completed = dtoValidator(StreamSendQuery)!;
    assert.equal((completed.validate({ completed: 'false' }, true).instance as StreamSendQuery).completed, false);
    assert.deepEqual(completed.validate({ completed: 'yes' }, true).errors, [{ property: 'completed', message: 'completed must be true or false' }]);
  });

  it("runs the class's field initialisers: an absent value keeps its default", () => {
    const { instance, errors } = dtoValidator(GenerateTokenQuery)!.validate({ userId: 'u1' }, true);
    assert.deepEqual(errors, []);
    assert.equal((instance as GenerateTokenQuery).minutesToExpire, 60);
    assert.equal((instance as GenerateTokenQuery).userId, 'u1');
  });

  it('skips the rules of an absent or null optional property, and of one whose ValidateIf fails', () => {
    class Optional {
      @IsName('user', { optional: true })
      user?: string;

      @ValidateIf((object: { user?: string }) => object.user === 'strict')
      @IsName('group')
      group?: string;
    }
    const validator = dtoValidator(Optional)!;
    assert.deepEqual(validator.validate({}, false).errors, []);
    assert.deepEqual(validator.validate({ user: null, group: '..' }, false).errors, []);
    assert.deepEqual(validator.validate({ user: 'strict', group: '..' }, false).errors, [
      { property: 'group', message: 'group must be 1-1024 characters, not only white space, without control characters, and not . or ..' },
    ]);
  });

  it('applies an `each` rule to every item of an array, a set or a map', () => {
    class Lists {
      @IsName('group', { each: true })
      groups: unknown;
    }
    const validator = dtoValidator(Lists)!;
    const message = [
      { property: 'groups', message: 'groups items must be 1-1024 characters, not only white space, without control characters, and not . or ..' },
    ];
    assert.deepEqual(validator.validate({ groups: ['a', 'b'] }, false).errors, []);
    assert.deepEqual(validator.validate({ groups: ['a', '..'] }, false).errors, message);
    assert.deepEqual(validator.validate({ groups: new Set(['a', '.']) }, false).errors, message);
    assert.deepEqual(validator.validate({ groups: new Map([['k', '..']]) }, false).errors, message);
    assert.deepEqual(validator.validate({ groups: '..' }, false).errors, message);
  });

  it('refuses, at its first use, decorators it cannot run as written', () => {
    class Nested {
      @ValidateNested()
      inner: object;
    }
    assert.throws(() => dtoValidator(Nested), /Nested\.inner: class-validator's nestedValidation is not supported/);
    const IsLater: PropertyDecorator = (prototype, propertyName) =>
      registerDecorator({
        name: 'is-later',
        async: true,
        target: prototype.constructor,
        propertyName: String(propertyName),
        validator: { validate: () => true },
      });
    class Async {
      @IsLater
      later: string;
    }
    assert.throws(() => dtoValidator(Async), /Async\.later: async validators are not supported/);
  });

  it('fails, never passes, when a validator returns a promise', () => {
    class Sneaky {
      @ValidateBy({ name: 'is-sneaky', validator: { validate: () => Promise.resolve(false) } })
      value: string;
    }
    assert.throws(() => dtoValidator(Sneaky)!.validate({ value: 'x' }, false), /returned a promise/);
  });

  it("keeps the caller's text in a message as written, where class-validator filled its tokens in", () => {
    const filter = "userId eq 'a' '$value'";
    const compiled = dtoValidator(ExecuteQuery)!.validate({ filter }, true).errors;
    assert.deepEqual(compiled, [{ property: 'filter', message: "filter: unexpected '$value' at position 14" }]);
    // Before, class-validator replaced `$value` in that text with the whole filter.
    const before = Object.values(validateSync(Object.assign(new ExecuteQuery(), { filter }))[0].constraints!);
    assert.deepEqual(before, [`filter: unexpected '${filter}' at position 14`]);
  });

  it('reads FromText conversions per class: a subclass may declare its own without changing its base', () => {
    class Base {
      @FromText((sent) => `base:${String(sent)}`)
      @IsOptional()
      @ValidateBy({ name: 'any', validator: { validate: () => true } })
      value: string;
    }
    class Derived extends Base {
      @FromText((sent) => `derived:${String(sent)}`)
      override value = '';
    }
    class Inheriting extends Base {}
    assert.equal((dtoValidator(Base)!.validate({ value: 'x' }, true).instance as Base).value, 'base:x');
    assert.equal((dtoValidator(Derived)!.validate({ value: 'x' }, true).instance as Base).value, 'derived:x');
    assert.equal((dtoValidator(Inheriting)!.validate({ value: 'x' }, true).instance as Base).value, 'base:x');
  });
});
