import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, ValidateBy } from 'class-validator';

/** C0 and C1 control characters and DEL: never allowed in a name, a query value or a reason. */
const PRINTABLE = '[^\\u0000-\\u001F\\u007F-\\u009F]';
/**
 * `.` and `..` are refused as names: they stay unescaped in the upstream path, where the service would resolve them
 * as dot-segments (`groups/../:send` is the hub's broadcast).
 */
const NOT_DOT_SEGMENT = '(?!\\.\\.?$)';

/** Azure's hub pattern (2022-06-01): 1-128 characters, starting with a letter. */
export const HUB_PATTERN = '^[A-Za-z][A-Za-z0-9_`,.[\\]]{0,127}$';
/** Longest group, user and connection id the API accepts, in UTF-16 code units (as .NET counts). */
export const NAME_MAX_LENGTH = 1024;
/** Longest close `reason`; Azure sets none, but a reason is a short human sentence. */
export const REASON_MAX_LENGTH = 1024;
/** Longest continuation token passed on (a list's paging, 2024-12-01); Azure sets none, its tokens are short. */
export const CONTINUATION_TOKEN_MAX_LENGTH = 4096;

/**
 * A name rule, used both to validate and to document (the OpenAPI shows exactly what the validator checks).
 * Patterns are ECMA-262 without flags, so `{1,1024}` counts UTF-16 code units; `maxLength` says the same in
 * code points for JSON Schema readers. Lone surrogates are refused too (they cannot be percent-encoded upstream).
 */
export interface NameRule {
  pattern: string;
  minLength: number;
  maxLength: number;
  description: string;
  /** What the caller is told when a value breaks the rule, after the field name. */
  requirement: string;
}

export const NAME_RULES = {
  hub: {
    pattern: HUB_PATTERN,
    minLength: 1,
    maxLength: 128,
    description: 'Hub name: starts with a letter, then letters, digits or _ ` , . [ ] (1-128 characters). Lowercased upstream.',
    requirement: 'must start with a letter and contain only letters, digits and _ ` , . [ ] (1-128 characters)',
  },
  group: {
    pattern: `^(?!\\s+$)${NOT_DOT_SEGMENT}${PRINTABLE}{1,${NAME_MAX_LENGTH}}$`,
    minLength: 1,
    maxLength: NAME_MAX_LENGTH,
    description: 'Group name: 1-1024 characters, not only white space, no control characters, not `.` or `..`.',
    requirement: 'must be 1-1024 characters, not only white space, without control characters, and not . or ..',
  },
  user: {
    pattern: `^${NOT_DOT_SEGMENT}${PRINTABLE}{1,${NAME_MAX_LENGTH}}$`,
    minLength: 1,
    maxLength: NAME_MAX_LENGTH,
    description: 'User id: 1-1024 characters, no control characters, not `.` or `..`.',
    requirement: 'must be 1-1024 characters without control characters, and not . or ..',
  },
  connectionId: {
    pattern: `^${NOT_DOT_SEGMENT}${PRINTABLE}{1,${NAME_MAX_LENGTH}}$`,
    minLength: 1,
    maxLength: NAME_MAX_LENGTH,
    description: 'Connection id: 1-1024 characters, no control characters, not `.` or `..`.',
    requirement: 'must be 1-1024 characters without control characters, and not . or ..',
  },
  streamId: {
    pattern: `^(?!\\s+$)${NOT_DOT_SEGMENT}${PRINTABLE}{1,100}$`,
    minLength: 1,
    maxLength: 100,
    description: "Stream id: the invocation id of the client's stream (1-100 characters, not only white space, no control characters).",
    requirement: 'must be 1-100 characters, not only white space, without control characters, and not . or ..',
  },
  continuationToken: {
    pattern: `^${PRINTABLE}{1,${CONTINUATION_TOKEN_MAX_LENGTH}}$`,
    minLength: 1,
    maxLength: CONTINUATION_TOKEN_MAX_LENGTH,
    description: "Where the next page starts: the service's opaque token, passed on as it is. The previous page's nextLink carries it.",
    requirement: `must be 1-${CONTINUATION_TOKEN_MAX_LENGTH} characters without control characters`,
  },
  reason: {
    pattern: `^${PRINTABLE}{0,${REASON_MAX_LENGTH}}$`,
    minLength: 0,
    maxLength: REASON_MAX_LENGTH,
    description: 'Why the connections are closed, passed to the clients: up to 1024 characters, no control characters.',
    requirement: 'must be at most 1024 characters without control characters',
  },
} satisfies Record<string, NameRule>;

export type NameKind = keyof typeof NAME_RULES;

/**
 * The hub Azure actually addresses: `{application}_{hub}` when an application is given, lowercased (docs/azure-compatibility.md#urls).
 * Permissions and client tokens both name this hub, so `b?application=a` and `a_b` are one hub.
 */
export function addressedHub(hub: string, application?: string): string {
  return (application === undefined ? hub : `${application}_${hub}`).toLowerCase();
}

/**
 * The hub a request's raw path `hub` and query `application` address, or undefined unless both are valid names. For
 * what runs before validation (the guard, the request metrics): an unvalidated value must not widen a hub grant, nor
 * become a label or a header.
 */
export function addressedHubOf(params: unknown, query: unknown): string | undefined {
  const { hub } = (params ?? {}) as Record<string, unknown>;
  const { application } = (query ?? {}) as Record<string, unknown>;
  if (!isValidName('hub', hub)) return undefined;
  if (application === undefined) return addressedHub(hub);
  return isValidName('hub', application) ? addressedHub(hub, application) : undefined;
}

const compiled = new Map(Object.entries(NAME_RULES).map(([kind, rule]) => [kind, new RegExp(rule.pattern)]));
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Whether `value` satisfies the rule of `kind`; the single check behind every name decorator. */
export function isValidName(kind: NameKind, value: unknown): value is string {
  return typeof value === 'string' && !LONE_SURROGATE.test(value) && compiled.get(kind)!.test(value);
}

export interface NameOptions {
  /** The property is a list and the rule applies to each item. */
  each?: boolean;
  /** The property may be absent. */
  optional?: boolean;
  description?: string;
}

/**
 * Validates a property (or, with `each`, every item of a list) against a name rule and documents the same rule
 * in the OpenAPI. Messages start with the property's name: "hub must start with a letter ...".
 */
export function IsName(kind: NameKind, { each = false, optional = false, description }: NameOptions = {}): PropertyDecorator {
  const rule: NameRule = NAME_RULES[kind];
  const schema = { type: 'string', pattern: rule.pattern, minLength: rule.minLength, maxLength: rule.maxLength } as const;
  const documented = { description: description ?? rule.description, required: !optional };
  const decorators = [
    ApiProperty(each ? { ...documented, type: 'array', items: schema } : { ...documented, ...schema }),
    ValidateBy(
      {
        name: `is-${kind}`,
        validator: {
          validate: (value) => isValidName(kind, value),
          defaultMessage: (args) => `${args?.property}${each ? ' items' : ''} ${rule.requirement}`,
        },
      },
      { each },
    ),
  ];
  return applyDecorators(...(optional ? [IsOptional(), ...decorators] : decorators));
}

/** What is wrong with a list of names, or undefined when nothing is. */
function nameListError(kind: NameKind, maxItems: number, value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be an array of strings';
  if (value.length < 1 || value.length > maxItems) return `must list 1-${maxItems} items (got ${value.length})`;
  const bad = value.findIndex((item) => !isValidName(kind, item));
  if (bad >= 0) return `[${bad}] ${NAME_RULES[kind].requirement}`;
  if (new Set(value).size !== value.length) return 'must not list an item twice';
  return undefined;
}

/** A body property listing 1..maxItems distinct names of one kind; one precise message for whatever is wrong first. */
export function IsNameList(kind: NameKind, maxItems: number, description: string): PropertyDecorator {
  const rule: NameRule = NAME_RULES[kind];
  const items = { type: 'string', pattern: rule.pattern, minLength: rule.minLength, maxLength: rule.maxLength } as const;
  return applyDecorators(
    ApiProperty({ description, type: 'array', items, minItems: 1, maxItems, uniqueItems: true }),
    ValidateBy({
      name: `is-${kind}-list`,
      validator: {
        validate: (value) => nameListError(kind, maxItems, value) === undefined,
        defaultMessage: (args) => {
          const error = nameListError(kind, maxItems, args?.value)!;
          return error.startsWith('[') ? `${args?.property}${error}` : `${args?.property} ${error}`;
        },
      },
    }),
  );
}
