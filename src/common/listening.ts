import { createServer } from 'node:net';

/** A port that is taken: the operator frees it or changes the variable that chose it. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/** Resolves with what `start` started, or fails with a PortInUseError naming `variable` when its port is taken. */
export async function listening<T>(variable: string, start: Promise<T>): Promise<T> {
  try {
    return await start;
  } catch (error) {
    const { code, address, port } = error as { code?: string; address?: string; port?: number };
    if (code !== 'EADDRINUSE') throw error;
    throw new PortInUseError(`Cannot listen on ${address}:${port}: the port is in use. Stop what holds it or set ${variable} to a free port.`, {
      cause: error,
    });
  }
}

/**
 * Fails with a PortInUseError naming `variable` when `host:port` is taken. Tried before anything starts, a taken port
 * is all that is said (a failing listen comes after other parts started and logged, and Nest logs its error too).
 */
export async function requireFreePort(variable: string, host: string, port: number): Promise<void> {
  const probe = createServer();
  await listening(variable, new Promise<void>((resolve, reject) => probe.once('error', reject).listen(port, host, resolve)));
  await new Promise((resolve) => probe.close(resolve));
}
