import { CliError, ExitCode, exitCodeForStatus } from './exit-codes.js';
import type { GatewayClient } from './gateway-client.js';

/** What every action runs against: the gateway for one hub, and the defaults of the message options. */
export interface Session {
  gateway: GatewayClient;
  target: string;
  sender: string;
}

/** The answer to one action, printed as one line (or one JSON object with --json). */
export interface CommandResult {
  summary: string;
  exitCode: ExitCode;
  details?: Record<string, unknown>;
}

export interface ActionOptions {
  target?: string;
  sender?: string;
  exclude?: string[];
  ttl?: string;
}

export interface ActionOption {
  flags: string;
  description: string;
  parse?: (value: string) => unknown;
}

/**
 * One command of the table that both the one-shot commands and the interactive prompt are built from.
 * Arguments arrive in order; a variadic last argument (`<message...>`) arrives joined by single spaces.
 */
export interface Action {
  words: readonly [string] | readonly [string, string];
  /** Commander's argument syntax: `<user> <message...>`. */
  args: string;
  description: string;
  options?: readonly ActionOption[];
  run(session: Session, args: readonly string[], options: ActionOptions): Promise<CommandResult>;
}

export const DEFAULT_TARGET = 'broadcastMessage';
export const DEFAULT_SENDER = 'server';

/** A comma-separated list, as `send users alice,bob`; blanks around items are dropped. */
export const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

const messageOptions: readonly ActionOption[] = [
  { flags: '--target <method>', description: `client method the message invokes (default: the session's, "${DEFAULT_TARGET}")` },
  { flags: '--sender <name>', description: `first argument of the message (default: the session's, "${DEFAULT_SENDER}")` },
];
const excludeOption: ActionOption = { flags: '--exclude <connectionIds>', description: 'comma-separated connection ids to leave out', parse: splitList };

/** As Azure's quickstart: the client method gets `(sender, text)`. */
const payload = (session: Session, text: string, options: ActionOptions) => ({
  target: options.target ?? session.target,
  arguments: [options.sender ?? session.sender, text],
});

const done = (summary: string, details: Record<string, unknown> = {}): CommandResult => ({ summary, exitCode: ExitCode.Success, details });

/** One line naming every addressee that failed, with the exit code of the first failure. */
function manyOutcome(kind: 'user' | 'group', names: readonly string[], body: unknown): CommandResult {
  const results = (body as { results?: unknown } | undefined)?.results;
  if (!Array.isArray(results)) throw new CliError(ExitCode.Unexpected, `the gateway's answer to a send to several ${kind}s has no results`);
  const outcomes = results as Array<{ status: number; problem?: { detail?: string } } & Record<string, unknown>>;
  const failed = outcomes.filter((outcome) => outcome.status >= 300);
  if (failed.length === 0) return done(`sent to ${kind}s ${names.join(', ')}`, { results });
  const reasons = failed.map((outcome) => `${String(outcome[kind])} (${outcome.status}${outcome.problem?.detail ? `: ${outcome.problem.detail}` : ''})`);
  return {
    summary: `sent to ${outcomes.length - failed.length} of ${outcomes.length} ${kind}s; failed: ${reasons.join(', ')}`,
    exitCode: exitCodeForStatus(failed[0].status),
    details: { results },
  };
}

const existence = async (session: Session, path: readonly string[], yes: string, no: string): Promise<CommandResult> => {
  const { status } = await session.gateway.call({ method: 'GET', path, notFoundIsAnswer: true });
  return status === 404 ? { summary: no, exitCode: ExitCode.NotFound, details: { exists: false } } : done(yes, { exists: true });
};

/** Most pages `members` follows (200 connections each): a bound, not an expected size. */
const MAX_MEMBER_PAGES = 1000;

interface Member {
  connectionId: string;
  userId?: string;
}

/** Every connection of a group, page after page, following the gateway's nextLink by its continuation token. */
async function membersOf(session: Session, group: string): Promise<Member[]> {
  const members: Member[] = [];
  let continuationToken: string | undefined;
  for (let page = 0; page < MAX_MEMBER_PAGES; page++) {
    const { body } = await session.gateway.call({ method: 'GET', path: ['groups', group, 'connections'], query: { continuationToken } });
    const { value, nextLink } = (body ?? {}) as { value?: unknown; nextLink?: unknown };
    if (!Array.isArray(value)) throw new CliError(ExitCode.Unexpected, "the gateway's list of a group's connections has no value");
    members.push(...(value as Member[]));
    if (typeof nextLink !== 'string') return members;
    continuationToken = new URL(nextLink, 'http://gateway').searchParams.get('continuationToken') ?? undefined;
    if (continuationToken === undefined) throw new CliError(ExitCode.Unexpected, "the gateway's nextLink has no continuationToken");
  }
  throw new CliError(ExitCode.Unexpected, `group ${group} has more than ${MAX_MEMBER_PAGES} pages of connections`);
}

/** `invoke`'s arguments: one JSON array (`[1, "two"]`), or nothing for none. */
function invocationArguments(text: string | undefined): unknown[] {
  if (text === undefined || text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(ExitCode.BadInput, `the arguments must be a JSON array, like '[1, "two"]'; got: ${text}`);
  }
  if (!Array.isArray(parsed)) throw new CliError(ExitCode.BadInput, `the arguments must be a JSON array, like '[1, "two"]'; got: ${text}`);
  return parsed;
}

export const ACTIONS: readonly Action[] = [
  {
    words: ['send', 'user'],
    args: '<user> <message...>',
    description: 'send a message to every connection of a user',
    options: messageOptions,
    run: async (session, [user, text], options) => {
      await session.gateway.call({ method: 'POST', path: ['users', user], action: 'send', body: payload(session, text, options) });
      return done(`sent to user ${user}`);
    },
  },
  {
    words: ['send', 'users'],
    args: '<users> <message...>',
    description: 'send a message to several users (comma-separated: alice,bob)',
    options: messageOptions,
    run: async (session, [list, text], options) => {
      const users = splitList(list);
      const { body } = await session.gateway.call({ method: 'POST', path: [], action: 'sendToUsers', body: { ...payload(session, text, options), users } });
      return manyOutcome('user', users, body);
    },
  },
  {
    words: ['send', 'group'],
    args: '<group> <message...>',
    description: 'send a message to every connection in a group',
    options: [...messageOptions, excludeOption],
    run: async (session, [group, text], options) => {
      await session.gateway.call({
        method: 'POST',
        path: ['groups', group],
        action: 'send',
        query: { excluded: options.exclude },
        body: payload(session, text, options),
      });
      return done(`sent to group ${group}`);
    },
  },
  {
    words: ['send', 'groups'],
    args: '<groups> <message...>',
    description: 'send a message to several groups (comma-separated: room1,room2)',
    options: messageOptions,
    run: async (session, [list, text], options) => {
      const groups = splitList(list);
      const { body } = await session.gateway.call({ method: 'POST', path: [], action: 'sendToGroups', body: { ...payload(session, text, options), groups } });
      return manyOutcome('group', groups, body);
    },
  },
  {
    words: ['send', 'connection'],
    args: '<connectionId> <message...>',
    description: 'send a message to one connection',
    options: messageOptions,
    run: async (session, [connectionId, text], options) => {
      await session.gateway.call({ method: 'POST', path: ['connections', connectionId], action: 'send', body: payload(session, text, options) });
      return done(`sent to connection ${connectionId}`);
    },
  },
  {
    words: ['broadcast'],
    args: '<message...>',
    description: 'send a message to every connection of the hub',
    options: [...messageOptions, excludeOption],
    run: async (session, [text], options) => {
      await session.gateway.call({ method: 'POST', path: [], action: 'send', query: { excluded: options.exclude }, body: payload(session, text, options) });
      return done(`broadcast to hub ${session.gateway.hub}`);
    },
  },
  {
    words: ['add', 'user'],
    args: '<user> <group>',
    description: 'add a user (its connections, and with --ttl the ones it opens later) to a group',
    options: [
      {
        flags: '--ttl <seconds>',
        description: 'how long the membership lasts for connections opened later (0: current connections only; default: up to a year)',
      },
    ],
    run: async (session, [user, group], { ttl }) => {
      await session.gateway.call({ method: 'PUT', path: ['users', user, 'groups', group], query: { ttl } });
      return done(`added user ${user} to group ${group}${ttl === undefined ? '' : ` for ${ttl} s`}`);
    },
  },
  {
    words: ['add', 'connection'],
    args: '<connectionId> <group>',
    description: 'add a connection to a group',
    run: async (session, [connectionId, group]) => {
      await session.gateway.call({ method: 'PUT', path: ['groups', group, 'connections', connectionId] });
      return done(`added connection ${connectionId} to group ${group}`);
    },
  },
  {
    words: ['remove', 'user'],
    args: '<user> <group>',
    description: 'remove a user from a group',
    run: async (session, [user, group]) => {
      await session.gateway.call({ method: 'DELETE', path: ['users', user, 'groups', group] });
      return done(`removed user ${user} from group ${group}`);
    },
  },
  {
    words: ['remove', 'connection'],
    args: '<connectionId> <group>',
    description: 'remove a connection from a group',
    run: async (session, [connectionId, group]) => {
      await session.gateway.call({ method: 'DELETE', path: ['groups', group, 'connections', connectionId] });
      return done(`removed connection ${connectionId} from group ${group}`);
    },
  },
  {
    words: ['close', 'connection'],
    args: '<connectionId> [reason...]',
    description: 'close one connection, telling the client why',
    run: async (session, [connectionId, reason]) => {
      await session.gateway.call({ method: 'DELETE', path: ['connections', connectionId], query: { reason } });
      return done(`closed connection ${connectionId}`);
    },
  },
  {
    words: ['close', 'user'],
    args: '<user> [reason...]',
    description: 'close every connection of a user',
    run: async (session, [user, reason]) => {
      await session.gateway.call({ method: 'POST', path: ['users', user], action: 'closeConnections', query: { reason } });
      return done(`closed the connections of user ${user}`);
    },
  },
  {
    words: ['close', 'group'],
    args: '<group> [reason...]',
    description: 'close every connection in a group',
    run: async (session, [group, reason]) => {
      await session.gateway.call({ method: 'POST', path: ['groups', group], action: 'closeConnections', query: { reason } });
      return done(`closed the connections in group ${group}`);
    },
  },
  {
    words: ['members'],
    args: '<group>',
    description: "list a group's connections and their users (every page)",
    run: async (session, [group]) => {
      const members = await membersOf(session, group);
      const listed = members.map(({ connectionId, userId }) => (userId === undefined ? connectionId : `${connectionId} (${userId})`));
      const summary = members.length === 0 ? `group ${group} has no connections` : `group ${group} has ${members.length} connection(s): ${listed.join(', ')}`;
      return done(summary, { members });
    },
  },
  {
    words: ['invoke'],
    args: '<connectionId> <method> [arguments...]',
    description: 'invoke a method on one client and print its result (arguments: a JSON array)',
    run: async (session, [connectionId, method, text]) => {
      const body = { target: method, arguments: invocationArguments(text) };
      const { body: answer } = await session.gateway.call({ method: 'POST', path: ['connections', connectionId], action: 'invoke', body });
      const result = (answer ?? {}) as { result?: unknown };
      return done(`connection ${connectionId} answered ${method}: ${result.result === undefined ? '(no result)' : JSON.stringify(result.result)}`, result);
    },
  },
  {
    words: ['exists', 'user'],
    args: '<user>',
    description: 'whether a user has a connection (exit code 5 when not)',
    run: (session, [user]) => existence(session, ['users', user], `user ${user} is connected`, `user ${user} is not connected`),
  },
  {
    words: ['exists', 'group'],
    args: '<group>',
    description: 'whether a group has a connection (exit code 5 when not)',
    run: (session, [group]) => existence(session, ['groups', group], `group ${group} has connections`, `group ${group} has no connections`),
  },
  {
    words: ['exists', 'connection'],
    args: '<connectionId>',
    description: 'whether a connection exists (exit code 5 when not)',
    run: (session, [connectionId]) =>
      existence(session, ['connections', connectionId], `connection ${connectionId} exists`, `connection ${connectionId} does not exist`),
  },
];

/** What the first word of a two-word command does, for `--help`. */
export const COMMAND_GROUPS: Record<string, string> = {
  send: 'send a message to a user, users, a group, groups or a connection',
  add: 'add a user or a connection to a group',
  remove: 'remove a user or a connection from a group',
  close: 'close the connections of a connection, a user or a group',
  exists: 'whether a user, a group or a connection has connections',
};
