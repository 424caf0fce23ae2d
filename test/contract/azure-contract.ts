import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { referenceFile } from '../fixtures/repository.js';
import type { RecordedRequest } from '../fixtures/upstream-stand-in.js';

/** Azure's published 2022-06-01 contract, read at test time from `../shared/reference/` beside the repository, whatever the working directory. */
export const SWAGGER_PATH = referenceFile('azure-signalr-V20220601.json');

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

/** The compiled contract, or undefined when the reference file is not there (the contract test says so). */
export const contract: Route[] | undefined = existsSync(SWAGGER_PATH) ? compile(JSON.parse(readFileSync(SWAGGER_PATH, 'utf8'))) : undefined;

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
export function operationOf(request: Pick<RecordedRequest, 'method' | 'rawPath'>): { operationId: string; template: string } | string {
  const route = contract?.find(({ regex }) => regex.test(request.rawPath));
  if (route === undefined) return `no path of the contract matches ${request.rawPath}`;
  const operation = route.operations[request.method.toLowerCase()];
  if (operation === undefined) return `${request.method} is not an operation of ${route.template}`;
  return { operationId: operation.operationId, template: route.template };
}

/** Everything in `request` that breaks Azure's contract: path template, method, parameters, body. */
export function contractViolations(request: RecordedRequest): string[] {
  const route = contract?.find(({ regex }) => regex.test(request.rawPath));
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
  if (body === undefined && request.body !== '') violations.push(`${where}: sends a body the operation does not take`);
  if (body !== undefined) violations.push(...payloadViolations(where, request, operation.consumes ?? []));
  return violations;
}

function valueViolations(where: string, parameter: SwaggerParameter, values: string[]): string[] {
  const violations: string[] = [];
  for (const value of values) {
    const what = `${where}: ${parameter.in} ${parameter.name}=${JSON.stringify(value)}`;
    if (parameter.pattern !== undefined && !new RegExp(parameter.pattern).test(value)) violations.push(`${what} does not match ${parameter.pattern}`);
    if (parameter.minLength !== undefined && value.length < parameter.minLength) violations.push(`${what} is shorter than ${parameter.minLength}`);
    if (parameter.maxLength !== undefined && value.length > parameter.maxLength) violations.push(`${what} is longer than ${parameter.maxLength}`);
    if (parameter.type === 'integer' && !/^-?\d+$/.test(value)) violations.push(`${what} is not an integer`);
  }
  return violations;
}

function payloadViolations(where: string, request: RecordedRequest, consumes: string[]): string[] {
  const type = request.headers['content-type']?.split(';')[0]?.trim() ?? '';
  if (!consumes.includes(type)) return [`${where}: content-type ${type} is not one of ${consumes.join(', ')}`];
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

/** Fails with every violation of every request; a no-op when the contract file is absent (see contract.test.ts). */
export function assertUpstreamContract(requests: readonly RecordedRequest[]): void {
  if (contract === undefined) return;
  assert.deepEqual(requests.flatMap(contractViolations), [], 'every upstream request follows Azure 2022-06-01');
}
