import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';

/** One field that failed validation, as listed in a problem's `errors`. */
export interface FieldError {
  /** Where the bad value was: `path.hub`, `query.ttl`, `body.target`, ... */
  field: string;
  message: string;
}

/**
 * What one upstream endpoint (with several SignalR instances) did with the request: the status a gateway in front of
 * it alone would have answered, and the problem when that is an error.
 */
export interface EndpointOutcome {
  endpoint: string;
  status: number;
  problem?: Problem;
}

/** RFC 9457 problem details, plus the request id, field errors and, with several upstream endpoints, each one's outcome. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId?: string;
  errors?: FieldError[];
  endpoints?: EndpointOutcome[];
}

export interface ProblemInit {
  status: number;
  /** Stable machine-readable code, also the last part of `type`. */
  code: string;
  detail: string;
  title?: string;
  errors?: FieldError[];
  endpoints?: EndpointOutcome[];
  headers?: Record<string, string>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
export const problemType = (code: string): string => `urn:signalr-gateway:problem:${code}`;

/** Every error the gateway answers with deliberately is one of these; the filter renders it. */
export class ProblemException extends HttpException {
  readonly code: string;
  readonly title: string;
  readonly errors?: FieldError[];
  readonly endpoints?: EndpointOutcome[];
  readonly headers: Record<string, string>;

  constructor(init: ProblemInit) {
    super(init.detail, init.status);
    this.code = init.code;
    this.errors = init.errors;
    this.endpoints = init.endpoints;
    this.headers = init.headers ?? {};
    this.title = init.title ?? statusTitle(init.status);
  }
}

export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}
