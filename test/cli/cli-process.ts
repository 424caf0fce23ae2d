import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The compiled CLI next to this compiled test: `<out>/src/cli/main.js`. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const WAIT_MS = 20_000;

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command to its end, feeding `input` to its standard input. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<Finished> {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env) });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** A CLI process that keeps running (`client`, `server`): its output by lines, to wait on. */
export class CliProcess {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();

  constructor(args: readonly string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env) });
    this.exited = once(this.child, 'close').then(([code]) => code as number | null);
    for (const [stream, lines] of [
      [this.child.stdout, this.stdout],
      [this.child.stderr, this.stderr],
    ] as const) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        for (const wake of this.waiters) wake();
      });
    }
  }

  /** Resolves with the first line of `stream` matching `pattern` (already printed or still to come). */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs = WAIT_MS): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (const line of this[stream]) {
          const match = pattern.exec(line);
          if (match) {
            this.waiters.delete(wake);
            clearTimeout(timer);
            resolve(match);
            return true;
          }
        }
        return false;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(
          new Error(`no ${stream} line matched ${pattern} within ${timeoutMs} ms; stdout: ${this.stdout.join(' | ')}; stderr: ${this.stderr.join(' | ')}`),
        );
      }, timeoutMs);
      this.waiters.add(wake);
      check();
    });
  }

  write(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  endInput(): void {
    this.child.stdin.end();
  }

  /** Sends `signal` (Ctrl-C by default) and resolves with the exit code; SIGKILL if it does not end in time. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exit();
  }

  /** Resolves with the exit code when the process ends by itself; SIGKILL if it does not end in time. */
  async exit(): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), WAIT_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A `client <user>` connected to the hub, with the connection id it printed. */
export async function startClient(
  user: string,
  env: NodeJS.ProcessEnv,
  extraArgs: readonly string[] = [],
): Promise<{ process: CliProcess; connectionId: string }> {
  const client = new CliProcess(['client', user, '--json', ...extraArgs], env);
  try {
    const [, connectionId] = await client.waitFor('stderr', /connected as "[^"]*", connection id (\S+);/);
    return { process: client, connectionId: connectionId };
  } catch (error) {
    await client.stop('SIGKILL');
    throw error;
  }
}

/** The messages a `client --json` printed: `[target, ...arguments]` each. */
export function received(client: CliProcess): unknown[][] {
  return client.stdout.map((line) => {
    const { target, arguments: args } = JSON.parse(line) as { target: string; arguments: unknown[] };
    return [target, ...args];
  });
}

/** The CLI's environment: only what the test gives (plus PATH), so the developer's own settings do not leak in. */
function cliEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...env };
}
