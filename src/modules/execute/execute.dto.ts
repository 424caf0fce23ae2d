import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';
import type { Permission } from '../../auth/permissions.js';
import { isValidName, NAME_RULES } from '../../common/names.js';
import type { FieldError } from '../../common/problem.js';
import { validationProblem } from '../../common/validation.pipe.js';
import { FilterError, parseFilter } from '../../azure/odata-filter.js';

/** Most commands one `:execute` may carry. */
export const MAX_COMMANDS = 100;

/** Longest filter the gateway passes on. */
export const FILTER_MAX_LENGTH = 4096;

/** The permission each command kind needs, on the hub addressed. */
export const COMMAND_PERMISSIONS = {
  SendMessage: 'signalr.send',
  JoinGroup: 'signalr.groups',
  LeaveGroup: 'signalr.groups',
  CloseConnection: 'signalr.connections',
} as const satisfies Record<string, Permission>;

export type CommandType = keyof typeof COMMAND_PERMISSIONS;

export type ExecuteCommand =
  | { type: 'SendMessage'; message: { target: string; arguments?: unknown[] } }
  | { type: 'JoinGroup' | 'LeaveGroup'; group: string }
  | { type: 'CloseConnection'; reason?: string };

/** `:execute` has no `application` in Azure's contract: only the filter. */
export class ExecuteQuery {
  @ApiProperty({
    required: false,
    maxLength: FILTER_MAX_LENGTH,
    description:
      "Which connections the commands apply to (absent: all of the hub's). Azure's OData subset: `userId` and `connectionId` with `eq`, `ne` or `in ('a','b')`, `'group' in groups`, `and`, `or`, `not`, parentheses; strings in single quotes. Anything else is 400 naming the part.",
    example: "userId eq 'alice' or 'vip' in groups",
  })
  @ValidateBy({
    name: 'is-filter',
    validator: {
      validate: (value) => value === undefined || (typeof value === 'string' && filterError(value) === undefined),
      defaultMessage: (args) => `filter: ${filterError(String(args?.value))}`,
    },
  })
  filter?: string;
}

function filterError(filter: string): string | undefined {
  if (filter.length > FILTER_MAX_LENGTH) return `longer than ${FILTER_MAX_LENGTH} characters`;
  try {
    parseFilter(filter);
    return undefined;
  } catch (error) {
    if (error instanceof FilterError) return error.message;
    throw error;
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What is wrong with command `index`, as field errors. */
function commandErrors(command: unknown, index: number): FieldError[] {
  const at = `body[${index}]`;
  if (!isObject(command)) return [{ field: at, message: 'must be a command object' }];
  const type = command['type'];
  if (typeof type !== 'string' || !Object.hasOwn(COMMAND_PERMISSIONS, type))
    return [{ field: `${at}.type`, message: `must be one of ${Object.keys(COMMAND_PERMISSIONS).join(', ')}` }];
  const allowed: Record<CommandType, string[]> = {
    SendMessage: ['type', 'message'],
    JoinGroup: ['type', 'group'],
    LeaveGroup: ['type', 'group'],
    CloseConnection: ['type', 'reason'],
  };
  const errors: FieldError[] = Object.keys(command)
    .filter((key) => !allowed[type as CommandType].includes(key))
    .map((key) => ({ field: `${at}.${key}`, message: `property ${key} should not exist on ${type}` }));
  if (type === 'SendMessage') {
    const message = command['message'];
    if (!isObject(message) || typeof message['target'] !== 'string' || message['target'] === '')
      errors.push({ field: `${at}.message.target`, message: 'target must be a non-empty string' });
    else if (message['arguments'] !== undefined && !Array.isArray(message['arguments']))
      errors.push({ field: `${at}.message.arguments`, message: 'arguments must be an array' });
    else if (Object.keys(message).some((key) => key !== 'target' && key !== 'arguments'))
      errors.push({ field: `${at}.message`, message: 'only target and arguments may be given' });
  } else if (type === 'JoinGroup' || type === 'LeaveGroup') {
    if (!isValidName('group', command['group'])) errors.push({ field: `${at}.group`, message: `group ${NAME_RULES.group.requirement}` });
  } else if (command['reason'] !== undefined && !isValidName('reason', command['reason'])) {
    errors.push({ field: `${at}.reason`, message: `reason ${NAME_RULES.reason.requirement}` });
  }
  return errors;
}

/** The body of `:execute`: a JSON array of 1-100 commands, each checked for its own kind. */
@Injectable()
export class ExecuteCommandsPipe implements PipeTransform {
  transform(value: unknown): ExecuteCommand[] {
    const errors: FieldError[] = !Array.isArray(value)
      ? [{ field: 'body', message: 'body must be a JSON array of commands' }]
      : value.length < 1 || value.length > MAX_COMMANDS
        ? [{ field: 'body', message: `body must hold 1-${MAX_COMMANDS} commands (got ${value.length})` }]
        : value.flatMap(commandErrors);
    if (errors.length > 0) throw validationProblem(errors);
    return value as ExecuteCommand[];
  }
}
