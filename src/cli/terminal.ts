import { CommanderError, type OutputConfiguration } from 'commander';
import { inspect } from 'node:util';
import type { CommandResult } from './commands.js';
import { CliError, ExitCode } from './exit-codes.js';

/** Tokens a line could carry by accident (an upstream error that echoes a URL or a header): never printed. */
const SECRETS: ReadonlyArray<[RegExp, string]> = [
  [/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '<token>'],
  [/(access_token=)[^&\s"]+/gi, '$1<token>'],
  [/(bearer\s+)[\w.~+/=-]+/gi, '$1<token>'],
];

export function redact(text: string): string {
  return SECRETS.reduce((result, [pattern, replacement]) => result.replace(pattern, replacement), text);
}

/**
 * Everything the CLI prints goes through here. stdout carries answers (one line, or one JSON object per line with
 * --json, errors included); stderr carries errors, connection state and, with --verbose, a trace. No stack trace
 * without --verbose.
 */
export class Terminal {
  constructor(
    readonly json: boolean,
    readonly verbose: boolean,
  ) {}

  /** What a person watching should know: connection state, the session. */
  status(line: string): void {
    process.stderr.write(`${redact(line)}\n`);
  }

  /** Requests and protocol events, with --verbose only. */
  readonly trace = (line: string): void => {
    if (this.verbose) process.stderr.write(`[verbose] ${redact(line)}\n`);
  };

  /** A data line on stdout: a received message, in text or JSON. */
  data(text: string, json: Record<string, unknown>): void {
    process.stdout.write(`${this.json ? JSON.stringify(json) : text}\n`);
  }

  outcome({ summary, exitCode, details }: CommandResult): void {
    this.data(summary, { ok: exitCode === ExitCode.Success, exitCode, summary, ...details });
  }

  /** Prints an error as one line and tells how the process should exit. */
  failure(error: unknown): ExitCode {
    if (error instanceof CommanderError) return this.usageFailure(error);
    const exitCode = error instanceof CliError ? error.exitCode : ExitCode.Unexpected;
    this.error(exitCode, redact(error instanceof CliError ? error.message : `unexpected error: ${error instanceof Error ? error.message : String(error)}`));
    if (this.verbose) this.trace(stackOf(error));
    return exitCode;
  }

  /** Where commander prints: its usage errors are left to `failure`, which prints them as JSON with --json. */
  commanderOutput(): OutputConfiguration {
    return {
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => {
        if (!this.json) write(text);
      },
    };
  }

  private usageFailure(error: CommanderError): ExitCode {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.Success;
    // Without --json, commander has printed the message already (or, with no command, the help).
    if (this.json)
      this.error(
        ExitCode.BadInput,
        error.code === 'commander.help' ? 'no command given (see --help)' : error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '),
      );
    return ExitCode.BadInput;
  }

  private error(exitCode: ExitCode, message: string): void {
    if (this.json) process.stdout.write(`${JSON.stringify({ ok: false, exitCode, error: message })}\n`);
    else process.stderr.write(`error: ${message}\n`);
  }
}

function stackOf(error: unknown): string {
  const lines: string[] = [];
  for (let current: unknown = error; current !== undefined; current = current instanceof Error ? current.cause : undefined) {
    lines.push(current instanceof Error ? (current.stack ?? current.message) : inspect(current));
  }
  return lines.join('\ncaused by: ');
}
