/** What the process exit status tells a script; documented in `--help` and docs/cli.md. */
export const ExitCode = {
  Success: 0,
  /** Anything not foreseen below (a bug, an answer the CLI cannot read). */
  Unexpected: 1,
  /** Bad usage, or the gateway refused the input (400, 404 of a route, 413, 422, ...). */
  BadInput: 2,
  /** No credentials, the SSO refused them, or the gateway refused the token (401, 403). */
  AuthFailure: 3,
  /** The gateway, the SSO or the SignalR service failed or could not be reached (5xx, 429, timeout, refused). */
  UpstreamFailure: 4,
  /** `exists` found nothing, or the named user, group or connection was not found (404). */
  NotFound: 5,
  /** Ctrl-C (SIGINT) ended a `client`: 128 + 2, what a shell reports for a process the signal ended. */
  Interrupted: 130,
  /** SIGTERM ended a `client`: 128 + 15. */
  Terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  unexpected error
  2  bad input: usage error, or the gateway refused the input (400, 413, 422)
  3  authentication failure: no credentials, SSO refused them, gateway answered 401/403
  4  upstream failure: gateway, SSO or SignalR service failed or unreachable (5xx, 429, timeout)
  5  not found: \`exists\` answered no, or the user/group/connection was not found (404)
  130  Ctrl-C ended a client (143: SIGTERM)`;

/** An error meant for the person at the terminal: one readable line, and the exit status that classifies it. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** Classifies an HTTP error status from the gateway or the SSO. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return ExitCode.AuthFailure;
  if (status === 404) return ExitCode.NotFound;
  if (status === 429 || status === 408 || status >= 500) return ExitCode.UpstreamFailure;
  if (status >= 400) return ExitCode.BadInput;
  return ExitCode.Unexpected;
}
