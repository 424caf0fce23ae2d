import { applyDecorators, HttpCode } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { ApiProblems, RATE_LIMIT_HEADERS } from '../../common/api-problems.js';
import { Idempotent } from '../idempotency/idempotency.js';
import { RateLimited, type RateCost } from '../rate-limit/rate-limit.js';
import { PayloadDto } from './hub.dto.js';
import { BINARY_PAYLOAD_TYPES } from './routes.js';

const SUCCESSES: Record<number, string> = {
  200: 'Done.',
  202: 'Accepted for delivery by the SignalR service (not a delivery confirmation).',
  204: 'Done.',
  207: 'One result per recipient, each with the status its own call got.',
};

export interface UpstreamOperation {
  operationId: string;
  summary: string;
  description?: string;
  /** The success status, set as the route's HTTP code and documented. */
  status: 200 | 202 | 204 | 207;
  /** The success body's class, if any. */
  type?: new () => object;
  /** The operation has a JSON body (so 415 is possible). */
  body?: boolean;
  /** The body is a message: JSON, or the binary form Azure's SDK sends (MessagePayloadPipe). */
  message?: boolean;
  /** The operation answers 404 when its target does not exist. */
  notFound?: boolean;
  /** The operation accepts an Idempotency-Key (every POST). */
  idempotent?: boolean;
  /** What one request costs of the caller's budget, when not one upstream call (a fan-out: one per recipient). */
  cost?: RateCost;
}

/**
 * Declares an operation that is forwarded to the SignalR service: its success code (set and documented at once, so
 * they cannot drift apart), its OpenAPI identity, every error it can answer, its cost against the caller's rate
 * limit and, for a POST, its Idempotency-Key.
 */
export function ApiUpstreamOperation(operation: UpstreamOperation): MethodDecorator {
  const { operationId, summary, description, status, type, body = false, message = false, notFound = false, idempotent = false, cost } = operation;
  // 401 and 403 are documented by RequirePermission, with the security requirement.
  // 413 for every operation: the names in a path (or a fan-out's body) can make the REST token too long.
  const problems = [400, ...(notFound ? [404] : []), 413, ...(body || message ? [415] : []), 429, 502, 503, 504];
  const messageBody = message
    ? [
        ApiConsumes('application/json', ...BINARY_PAYLOAD_TYPES),
        ApiBody({
          type: PayloadDto,
          description:
            "The message. `application/json`: this schema. `application/octet-stream` or `application/x-msgpack`: the binary form Azure's .NET SDK sends with hub protocols registered (a MessagePack map from hub protocol name, `json` or `messagepack`, to the message serialised in it), forwarded byte for byte.",
        }),
      ]
    : [];
  return applyDecorators(
    HttpCode(status),
    ApiOperation({ operationId, summary, description }),
    ApiResponse({ status, description: SUCCESSES[status], type, headers: RATE_LIMIT_HEADERS }),
    ApiProblems(...problems),
    // The idempotency guard first: a replay costs no upstream call, so it answers before the rate limit.
    ...(idempotent ? [Idempotent()] : []),
    RateLimited(cost),
    ...messageBody,
  );
}
