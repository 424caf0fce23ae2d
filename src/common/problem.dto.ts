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
}
