import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then waits for the exit (a profiled process writes its profile on the way out). */
  stop(): Promise<void>;
}

const SERVERS = fileURLToPath(new URL('./servers.js', import.meta.url));
// The raw broadcast loads nothing of the gateway, so its resident memory is its own.
const RAW_FANOUT = fileURLToPath(new URL('./raw-fanout.js', import.meta.url));

/**
 * Starts one server of bench/servers.ts, or bench/raw-fanout.ts, in its own Node process and resolves once it listens.
 * `build`: the compiled tree (`dist-test`) of another checkout to take servers.js from (BENCH_COMPARE); this one's by default.
 */
export async function startServer(
  name: 'upstream' | 'minimal' | 'hop' | 'gateway' | 'raw-fanout',
  env: Record<string, string> = {},
  build?: string,
): Promise<ServerProcess> {
  // stdout (the gateway's log) goes to /dev/null; errors stay visible.
  const servers = build === undefined ? SERVERS : join(build, 'bench', 'servers.js');
  const script = name === 'raw-fanout' ? [RAW_FANOUT] : [servers, name];
  const child = spawn(process.execPath, script, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    void exited.then(([code]) => reject(new Error(`the ${name} process exited (${code}) before listening`)));
    child.once('message', (message: { listening: string }) => resolve(message.listening));
  });
  child.disconnect();
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
