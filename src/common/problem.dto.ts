import { ApiProperty } from '@nestjs/swagger';

export class FieldErrorDto {
  /** Where the bad value was: `path.hub`, `query.ttl`, `body.target`, ... */
  @ApiProperty({ example: 'path.hub' })
  field: string;

  /** What is wrong with it. */
  @ApiProperty({ example: 'hub must start with a letter and contain only letters, digits and _ ` , . [ ] (1-128 characters)' })
  message: string;
}

/** RFC 9457 problem details, as every error of the gateway is answered (`application/problem+json`). */
export class ProblemDto {
  /** A URN naming the kind of problem; its last part is `code`. */
  @ApiProperty({ example: 'urn:signalr-gateway:problem:validation' })
  type: string;

  @ApiProperty({ example: 'Bad Request' })
  title: string;

  @ApiProperty({ example: 400 })
  status: number;

  /** What went wrong, for a human. */
  @ApiProperty({ example: 'path.hub: hub must start with a letter and contain only letters, digits and _ ` , . [ ] (1-128 characters)' })
  detail: string;

  /** Stable, machine-readable: `validation`, `not-found`, `upstream-unavailable`, ... */
  @ApiProperty({ example: 'validation' })
  code: string;

  /** The request's `x-request-id`, to find its log line. */
  @ApiProperty({ required: false })
  requestId?: string;

  /** Every invalid field, on `validation` problems. */
  @ApiProperty({ required: false, type: [FieldErrorDto] })
  errors?: FieldErrorDto[];

  /**
   * With several SignalR endpoints, when the operation did not succeed at every endpoint it had to: each endpoint's
   * outcome, in configuration order. On `partial-failure` the endpoints with a 2xx status DID get the request: a retry
   * repeats it there (a message is delivered twice to the clients of those endpoints).
   */
  @ApiProperty({ required: false, type: () => EndpointOutcomeDto, isArray: true })
  endpoints?: EndpointOutcomeDto[];
}

/** What one SignalR endpoint did with the request, when the gateway fronts several (SIGNALR_ENDPOINTS). */
export class EndpointOutcomeDto {
  /** The endpoint's name from SIGNALR_ENDPOINTS. */
  @ApiProperty({ example: 'west' })
  endpoint: string;

  /** What a gateway in front of this endpoint alone would have answered: 2xx, it took effect there; 404, it has no such connection, user or group. */
  @ApiProperty({ example: 503 })
  status: number;

  /** Why it failed there (status 4xx or 5xx): the problem a gateway in front of it alone would have answered. */
  @ApiProperty({ required: false, type: ProblemDto })
  problem?: ProblemDto;
}
