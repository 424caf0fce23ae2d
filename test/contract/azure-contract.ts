import { decode } from '@msgpack/msgpack';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { referenceFile } from '../fixtures/repository.js';
import type { UpstreamRequest } from '../fixtures/recording-proxy.js';

type RecordedRequest = UpstreamRequest;

/** Azure's published 2022-06-01 contract, read at test time from `../shared/reference/` beside the repository, whatever the working directory. */
export const SWAGGER_PATH = referenceFile('azure-signalr-V20220601.json');
/** Azure's published 2024-12-01 contract (26 operations), from the same place. */
export const SWAGGER_2024_PATH = referenceFile('azure-signalr-v20241201.json');

interface SwaggerParameter {
  name: string;
  in: 'path' | 'query' | 'body' | 'header';
  required?: boolean;
  type?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  items?: { type: string };
  collectionFormat?: string;
  minimum?: number;
  maximum?: number;
  schema?: { type?: string };
}

interface SwaggerOperation {
  operationId: string;
  parameters: SwaggerParameter[];
  consumes?: string[];
}

interface Route {
  template: string;
  regex: RegExp;
  names: string[];
  operations: Record<string, SwaggerOperation>;
}

const load = (path: string): Route[] | undefined => (existsSync(path) ? compile(JSON.parse(readFileSync(path, 'utf8'))) : undefined);

/** The compiled contract, or undefined when the reference file is not there (the contract test says so). */
export const contract: Route[] | undefined = load(SWAGGER_PATH);
/** The compiled 2024-12-01 contract, or undefined when the reference file is not there. */
export const contract2024: Route[] | undefined = load(SWAGGER_2024_PATH);

function compile(swagger: { paths: Record<string, Record<string, SwaggerOperation>> }): Route[] {
  return Object.entries(swagger.paths).map(([template, operations]) => {
    const names: string[] = [];
    const source = template.split(/(\{\w+\})/).map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(name);
      return '([^/]+)';
    });
    return { template, regex: new RegExp(`^${source.join('')}$`), names, operations };
  });
}

/** The swagger operation a request matches (path template and method), or a reason it matches none. */
export function operationOf(
  request: Pick<RecordedRequest, 'method' | 'rawPath'>,
  routes: Route[] | undefined = contract,
): { operationId: string; template: string } | string {
  const route = routes?.find(({ regex }) => regex.test(request.rawPath));
  if (route === undefined) return `no path of the contract matches ${request.rawPath}`;
  const operation = route.operations[request.method.toLowerCase()];
  if (operation === undefined) return `${request.method} is not an operation of ${route.template}`;
  return { operationId: operation.operationId, template: route.template };
}

/** Everything in `request` that breaks Azure's contract (2022-06-01 unless `routes`): path template, method, parameters, body. */
export function contractViolations(request: RecordedRequest, routes: Route[] | undefined = contract): string[] {
  const route = routes?.find(({ regex }) => regex.test(request.rawPath));
  if (route === undefined) return [`no path of the contract matches ${request.method} ${request.rawPath}`];
  const operation = route.operations[request.method.toLowerCase()];
  if (operation === undefined) return [`${request.method} is not an operation of ${route.template}`];
  const where = `${request.method} ${request.rawPath} (${operation.operationId})`;
  const violations: string[] = [];
  const declared = new Map(operation.parameters.map((parameter) => [`${parameter.in}:${parameter.name}`, parameter]));

  const values = route.regex.exec(request.rawPath)!.slice(1);
  route.names.forEach((name, index) => {
    const parameter = declared.get(`path:${name}`);
    if (parameter === undefined) violations.push(`${where}: path parameter ${name} is not declared`);
    else violations.push(...valueViolations(where, parameter, [decodeURIComponent(values[index])]));
  });

  for (const [name, given] of Object.entries(request.query)) {
    const parameter = declared.get(`query:${name}`);
    if (parameter === undefined) violations.push(`${where}: query parameter ${name} is not declared`);
    else if (given.length > 1 && parameter.collectionFormat !== 'multi') violations.push(`${where}: query parameter ${name} is repeated but not multi`);
    else violations.push(...valueViolations(where, parameter, given));
  }
  for (const parameter of operation.parameters) {
    if (parameter.required && parameter.in === 'query' && request.query[parameter.name] === undefined)
      violations.push(`${where}: required query parameter ${parameter.name} is missing`);
  }

  const body = operation.parameters.find((parameter) => parameter.in === 'body');
  if (body === undefined && request.body !== '') {
    if (ITEM_BODY_OPERATIONS.has(operation.operationId)) violations.push(...itemBodyViolations(where, request));
    else violations.push(`${where}: sends a body the operation does not take`);
  }
  if (body !== undefined && body.schema?.type === 'array') violations.push(...commandViolations(where, request, operation.consumes ?? []));
  else if (body !== undefined) violations.push(...payloadViolations(where, request, operation.consumes ?? []));
  return violations;
}

/**
 * The one known departure: 2024-12-01 declares no body for sending a stream item, yet the item has to travel, and its
 * ServiceResponse carries `stream: ByteReadOnlyMemoryIAsyncEnumerable` (the service reads the body as a byte stream).
 * The gateway sends the item as a JSON body (docs/azure-compatibility.md#streams), so that is what is checked here.
 */
const ITEM_BODY_OPERATIONS = new Set(['HubProxyV20241201_SendToConnectionStream']);

function itemBodyViolations(where: string, request: RecordedRequest): string[] {
  const type = request.headers['content-type']?.split(';')[0]?.trim() ?? '';
  if (type !== 'application/json') return [`${where}: a stream item must be sent as application/json, not ${type}`];
  try {
    JSON.parse(request.body);
    return [];
  } catch {
    return [`${where}: the stream item is not JSON`];
  }
}

function valueViolations(where: string, parameter: SwaggerParameter, values: string[]): string[] {
  const violations: string[] = [];
  for (const value of values) {
    const what = `${where}: ${parameter.in} ${parameter.name}=${JSON.stringify(value)}`;
    if (parameter.pattern !== undefined && !new RegExp(parameter.pattern).test(value)) violations.push(`${what} does not match ${parameter.pattern}`);
    if (parameter.minLength !== undefined && value.length < parameter.minLength) violations.push(`${what} is shorter than ${parameter.minLength}`);
    if (parameter.maxLength !== undefined && value.length > parameter.maxLength) violations.push(`${what} is longer than ${parameter.maxLength}`);
    if (parameter.type === 'integer' && !/^-?\d+$/.test(value)) violations.push(`${what} is not an integer`);
    if (parameter.type === 'boolean' && !/^(true|false)$/.test(value)) violations.push(`${what} is not a boolean`);
    if (parameter.minimum !== undefined && Number(value) < parameter.minimum) violations.push(`${what} is below ${parameter.minimum}`);
    if (parameter.maximum !== undefined && Number(value) > parameter.maximum) violations.push(`${what} is above ${parameter.maximum}`);
  }
  return violations;
}

/** The properties each SignalRCommand kind has in 2024-12-01 (`SendMessage`, `JoinGroup`, `LeaveGroup`, `CloseConnection`). */
const COMMAND_PROPERTIES: Record<string, string[]> = {
  SendMessage: ['type', 'message'],
  JoinGroup: ['type', 'group'],
  LeaveGroup: ['type', 'group'],
  CloseConnection: ['type', 'reason'],
};

/** `:execute`'s body: a JSON array of SignalRCommand, each with its kind's properties only. */
function commandViolations(where: string, request: RecordedRequest, consumes: string[]): string[] {
  const type = request.headers['content-type']?.split(';')[0]?.trim() ?? '';
  if (!consumes.includes(type)) return [`${where}: content-type ${type} is not one of ${consumes.join(', ')}`];
  let commands: unknown;
  try {
    commands = JSON.parse(request.body);
  } catch {
    return [`${where}: the body is not JSON`];
  }
  if (!Array.isArray(commands)) return [`${where}: the body is not an array of commands`];
  return commands.flatMap((command: Record<string, unknown>, index) => {
    const allowed = COMMAND_PROPERTIES[String(command?.type)];
    if (allowed === undefined) return [`${where}: command ${index} has no known type`];
    const extra = Object.keys(command).filter((key) => !allowed.includes(key));
    const missing = allowed.filter((key) => key !== 'reason' && command[key] === undefined);
    return [...extra.map((key) => `${where}: command ${index} has ${key}`), ...missing.map((key) => `${where}: command ${index} lacks ${key}`)];
  });
}

function payloadViolations(where: string, request: RecordedRequest, consumes: string[]): string[] {
  const type = request.headers['content-type']?.split(';')[0]?.trim() ?? '';
  if (!consumes.includes(type)) return [`${where}: content-type ${type} is not one of ${consumes.join(', ')}`];
  // The binary forms: what Azure's SDK sends, a MessagePack map from hub protocol name to the serialised message.
  if (type !== 'application/json') {
    let map: unknown;
    try {
      map = decode(request.bodyBytes ?? Buffer.from(request.body, 'latin1'));
    } catch {
      return [`${where}: the ${type} body is not MessagePack`];
    }
    const entries = typeof map === 'object' && map !== null && !Array.isArray(map) ? Object.entries(map) : [];
    const valid = entries.length > 0 && entries.every(([name, value]) => ['json', 'messagepack'].includes(name) && value instanceof Uint8Array);
    return valid ? [] : [`${where}: the ${type} body is not a map from hub protocol name to the serialised message`];
  }
  let payload: { target?: unknown; arguments?: unknown };
  try {
    payload = JSON.parse(request.body);
  } catch {
    return [`${where}: the body is not JSON`];
  }
  const violations: string[] = [];
  if (typeof payload.target !== 'string' || payload.target.length < 1) violations.push(`${where}: body target must be a non-empty string`);
  if (payload.arguments !== undefined && !Array.isArray(payload.arguments)) violations.push(`${where}: body arguments must be an array`);
  const extra = Object.keys(payload).filter((key) => !['target', 'arguments'].includes(key));
  if (extra.length > 0) violations.push(`${where}: body has properties outside PayloadMessage: ${extra.join(', ')}`);
  return violations;
}

/**
 * What `request` breaks of the contracts it must follow: every request follows 2024-12-01 (the newest contract, which
 * has all 26 operations), and a request that names `api-version=2022-06-01` follows 2022-06-01 as well
 * (docs/azure-compatibility.md#api-versions). A request naming any other version is a violation.
 */
export function versionedViolations(request: RecordedRequest): string[] {
  const version = request.query['api-version']?.[0];
  const violations = contract2024 === undefined ? [] : contractViolations(request, contract2024).map((violation) => `2024-12-01: ${violation}`);
  if (version === '2022-06-01') violations.push(...contractViolations(request, contract).map((violation) => `2022-06-01: ${violation}`));
  else if (version !== '2024-12-01') violations.push(`${request.method} ${request.rawPath}: api-version ${version} is neither 2022-06-01 nor 2024-12-01`);
  return violations;
}

/** Fails with every violation of every request; a no-op when the contract files are absent (see contract.test.ts). */
export function assertUpstreamContract(requests: readonly RecordedRequest[]): void {
  if (contract === undefined || contract2024 === undefined) return;
  assert.deepEqual(requests.flatMap(versionedViolations), [], "every upstream request follows Azure's contract of its api-version and 2024-12-01");
}
