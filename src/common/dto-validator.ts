import type { Type } from '@nestjs/common';
import { getMetadataStorage, ValidationTypes, type MetadataStorage, type ValidationArguments } from 'class-validator';

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

/** How a path or query value, text as the caller sent it (a list of texts when a query key repeats), becomes the property's value. */
export type TextConversion = (text: unknown) => unknown;

const conversionsByPrototype = new Map<object, Map<string, TextConversion>>();

/**
 * Converts a path or query value before the property's rules check it (`ttl=60` is the number 60). Bodies are JSON,
 * typed already, and are never converted. A subclass inherits its base's conversions.
 */
export function FromText(conversion: TextConversion): PropertyDecorator {
  return (prototype, property) => {
    const conversions = conversionsByPrototype.get(prototype) ?? new Map<string, TextConversion>();
    conversions.set(String(property), conversion);
    conversionsByPrototype.set(prototype, conversions);
  };
}

/** One broken rule (or one undeclared key) of a DTO, by property. */
export interface PropertyError {
  property: string;
  message: string;
}

/** A DTO class compiled once from its decorators: no metadata is looked up per request. */
export interface DtoValidator {
  /**
   * A new instance of the DTO (its field initialisers run) carrying the declared keys of `values`, converted when
   * `fromText`, and what is wrong: each undeclared key in the caller's order, then each broken rule.
   */
  validate(values: object, fromText: boolean): { instance: object; errors: PropertyError[] };
}

const validators = new Map<Type, DtoValidator | undefined>();

/** The validator of a DTO class (one with any class-validator decorator, `@Allow()` included), or undefined for any other class. */
export function dtoValidator(metatype: Type): DtoValidator | undefined {
  if (!validators.has(metatype)) validators.set(metatype, compile(metatype));
  return validators.get(metatype);
}

/** One rule of a property, as class-validator would run it: the validator's instance, its options and its message. */
interface Rule {
  /** The key class-validator files the failure under: a property's rules of the same name give one message, the last. */
  name: string;
  each: boolean;
  constraints: unknown[];
  validateIf?: (object: object, value: unknown) => boolean;
  validate: (value: unknown, args: ValidationArguments) => unknown;
  message: (args: ValidationArguments) => string;
}

interface CompiledProperty {
  name: string;
  conversion?: TextConversion;
  /** `@IsOptional()` and `@ValidateIf()`: the rules run only when all of them hold. */
  conditions: ((object: object, value: unknown) => boolean)[];
  rules: Rule[];
}

const { CUSTOM_VALIDATION, CONDITIONAL_VALIDATION, WHITELIST, IS_DEFINED } = ValidationTypes;
const SUPPORTED = new Set([CUSTOM_VALIDATION, CONDITIONAL_VALIDATION, WHITELIST, IS_DEFINED]);

/**
 * Reads the class's decorators once, with class-validator's own metadata query (the same rules, in the same order,
 * as `validate(instance)` finds on every call), and returns a validator that runs them as class-validator does:
 * every property in turn; none of its rules when a condition fails; `each` rules on every item of an array, set or
 * map; one message per failed rule name. Decorators it cannot run as written (nested or promise validation, async
 * validators) fail here, at the first use of the class, rather than pass unchecked.
 *
 * Messages are used as the rules write them. class-validator also replaced `$value`, `$property`, `$target` and
 * `$constraintN` in them, inside the caller's own text too (a filter that quotes `'$value'`); the gateway's rules name
 * their property themselves.
 */
function compile(metatype: Type): DtoValidator | undefined {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(metatype, '', false, false);
  if (metadatas.length === 0) return undefined;
  const properties = Object.entries(storage.groupByPropertyName(metadatas)).map(([name, group]) =>
    compileProperty(storage, metatype, name, group, conversionOf(metatype, name)),
  );
  const byName = new Map(properties.map((property) => [property.name, property]));

  return {
    validate(values, fromText) {
      const instance = new metatype() as Record<string, unknown>;
      const errors: PropertyError[] = [];
      for (const key of Object.keys(values)) {
        const property = byName.get(key);
        const value = (values as Record<string, unknown>)[key];
        if (property === undefined) errors.push({ property: key, message: `property ${key} should not exist` });
        else instance[key] = fromText && property.conversion !== undefined ? property.conversion(value) : value;
      }
      for (const property of properties) checkProperty(metatype, property, instance, errors);
      return { instance, errors };
    },
  };
}

function conversionOf(metatype: Type, property: string): TextConversion | undefined {
  for (let prototype: object | null = metatype.prototype as object; prototype !== null; prototype = Object.getPrototypeOf(prototype) as object | null) {
    const conversion = conversionsByPrototype.get(prototype)?.get(property);
    if (conversion !== undefined) return conversion;
  }
  return undefined;
}

function compileProperty(
  storage: MetadataStorage,
  metatype: Type,
  name: string,
  group: ValidationMetadata[],
  conversion: TextConversion | undefined,
): CompiledProperty {
  const where = `${metatype.name}.${name}`;
  const unsupported = group.find((metadata) => !SUPPORTED.has(metadata.type));
  if (unsupported !== undefined) throw new Error(`${where}: class-validator's ${unsupported.type} is not supported by the compiled validation`);
  const conditions = group
    .filter((metadata) => metadata.type === CONDITIONAL_VALIDATION)
    .map((metadata) => metadata.constraints[0] as CompiledProperty['conditions'][number]);
  // class-validator runs `@IsDefined()` before the other rules.
  const ruled = [...group.filter((metadata) => metadata.type === IS_DEFINED), ...group.filter((metadata) => metadata.type === CUSTOM_VALIDATION)];
  const rules = ruled.flatMap((metadata) =>
    storage.getTargetValidatorConstraints(metadata.constraintCls).map((constraint): Rule => {
      if (constraint.async) throw new Error(`${where}: async validators are not supported by the compiled validation`);
      const validator = constraint.instance;
      const { message } = metadata;
      return {
        name: constraint.name || metadata.type,
        each: metadata.each,
        constraints: metadata.constraints,
        validateIf: metadata.validateIf,
        validate: (value, args) => validator.validate(value, args),
        message: (args) => (typeof message === 'function' ? message(args) : message || (validator.defaultMessage?.(args) ?? '')),
      };
    }),
  );
  return { name, conversion, conditions, rules };
}

function checkProperty(metatype: Type, property: CompiledProperty, instance: Record<string, unknown>, errors: PropertyError[]): void {
  const value = instance[property.name];
  if (!property.conditions.every((condition) => condition(instance, value))) return;
  let failed: Map<string, string> | undefined;
  for (const rule of property.rules) {
    if (rule.validateIf !== undefined && !rule.validateIf(instance, value)) continue;
    const args: ValidationArguments = { targetName: metatype.name, property: property.name, object: instance, value, constraints: rule.constraints };
    if (!passes(rule, value, args)) (failed ??= new Map()).set(rule.name, rule.message(args));
  }
  for (const message of failed?.values() ?? []) errors.push({ property: property.name, message });
}

function passes(rule: Rule, value: unknown, args: ValidationArguments): boolean {
  if (rule.each && (Array.isArray(value) || value instanceof Set || value instanceof Map)) {
    const items: Iterable<unknown> = value instanceof Map ? value.values() : (value as Iterable<unknown>);
    for (const item of items) if (!isValid(rule.validate(item, args))) return false;
    return true;
  }
  return isValid(rule.validate(value, args));
}

function isValid(result: unknown): boolean {
  // A validator is synchronous here: a promise would be truthy, a pass that was never checked.
  if (result instanceof Promise) throw new Error('a validator returned a promise; the compiled validation runs synchronous validators only');
  return Boolean(result);
}
