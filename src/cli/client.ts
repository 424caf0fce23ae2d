import {
  HttpTransportType,
  HubConnectionBuilder,
  JsonHubProtocol,
  LogLevel,
  MessageType,
  type HubMessage,
  type IHttpConnectionOptions,
  type IHubProtocol,
  type ILogger,
  type InvocationMessage,
} from '@microsoft/signalr';
import WebSocket from 'ws';
import { CliError, ExitCode } from './exit-codes.js';
import type { GatewayClient } from './gateway-client.js';
import type { Terminal } from './terminal.js';

export interface ClientOptions {
  /** Lifetime asked of each client token (`minutesToExpire`). */
  minutesToExpire: number;
}

interface ClientToken {
  token: string;
  url: string;
}

/** Longest wait between two reconnection attempts; the client never gives up by itself. */
const MAX_RETRY_DELAY_MS = 10_000;

/**
 * `client <name>`: connects to the hub as user `name` with a client token from the gateway's `:generateToken`,
 * prints every message it receives (timestamp, target, arguments) on stdout and its connection state on stderr,
 * reconnects by itself (with a fresh token) and resolves with the exit code on Ctrl-C or when the service closes it.
 */
export async function runClient(gateway: GatewayClient, user: string, terminal: Terminal, { minutesToExpire }: ClientOptions): Promise<ExitCode> {
  const generateToken = async (): Promise<ClientToken> => {
    const { body } = await gateway.call({ method: 'POST', path: [], action: 'generateToken', query: { userId: user, minutesToExpire } });
    const { token, url } = (body ?? {}) as Partial<ClientToken>;
    if (typeof token !== 'string' || typeof url !== 'string')
      throw new CliError(ExitCode.Unexpected, 'the gateway answered :generateToken without a token and a url');
    return { token, url };
  };

  terminal.status(`connecting to hub "${gateway.hub}" as user "${user}"...`);
  let current: ClientToken | undefined = await generateToken();
  const options: IHttpConnectionOptions & { WebSocket: unknown } = {
    transport: HttpTransportType.WebSockets,
    // Node 20 has no global WebSocket: the client is given the `ws` implementation explicitly.
    WebSocket,
    // The first connection uses the token just fetched; every reconnection asks for a fresh one.
    accessTokenFactory: async () => (current ??= await generateToken()).token,
    logger: signalrLogger(terminal),
  };
  const connection = new HubConnectionBuilder()
    .withUrl(current.url, options)
    .withHubProtocol(
      new ObservingProtocol(new JsonHubProtocol(), ({ target, arguments: args }) => {
        const time = new Date().toISOString();
        terminal.data(`${time} ${target} ${JSON.stringify(args)}`, { time, target, arguments: args });
      }),
    )
    .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ({ previousRetryCount }) => Math.min(500 * 2 ** previousRetryCount, MAX_RETRY_DELAY_MS) })
    .build();

  connection.onreconnecting((error) => {
    current = undefined;
    terminal.status(`reconnecting: ${error?.message ?? 'connection lost'}`);
  });
  connection.onreconnected((connectionId) => terminal.status(`reconnected, connection id ${connectionId}`));

  // Ctrl-C (or SIGTERM) disconnects cleanly, then exits with the status a shell reports for the signal, as it does
  // before this point, where the default action ends the process: so `npx signalr-gateway client` and the bare
  // command end alike. Installed before the connection starts, so no signal falls between the two.
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    stoppedBy = signal;
    void connection.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
    try {
      await connection.start();
    } catch (error) {
      if (stoppedBy) return signalExitCode(stoppedBy);
      throw new CliError(ExitCode.UpstreamFailure, `cannot connect to the SignalR service: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
    terminal.status(`connected as "${user}", connection id ${connection.connectionId}; waiting for messages (Ctrl-C to quit)`);
    const error = await closed;
    if (stoppedBy) {
      terminal.status('disconnected');
      return signalExitCode(stoppedBy);
    }
    terminal.status(`the service closed the connection${error ? `: ${error.message}` : ''}`);
    return error ? ExitCode.UpstreamFailure : ExitCode.Success;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

function signalExitCode(signal: NodeJS.Signals): ExitCode {
  return signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated;
}

/**
 * The JSON hub protocol, handing every invocation to `onInvocation` instead of to `connection.on` handlers: the
 * client prints whatever target arrives, which `on` (one handler per known name) cannot do.
 */
class ObservingProtocol implements IHubProtocol {
  readonly name: string;
  readonly version: number;
  readonly transferFormat;

  constructor(
    private readonly inner: IHubProtocol,
    private readonly onInvocation: (message: InvocationMessage) => void,
  ) {
    this.name = inner.name;
    this.version = inner.version;
    this.transferFormat = inner.transferFormat;
  }

  parseMessages(input: string | ArrayBuffer, logger: ILogger): HubMessage[] {
    return this.inner.parseMessages(input, logger).filter((message) => {
      if (message.type !== MessageType.Invocation) return true;
      this.onInvocation(message);
      return false;
    });
  }

  writeMessage(message: HubMessage): string | ArrayBuffer {
    return this.inner.writeMessage(message);
  }
}

/** The SignalR client's own log, only with --verbose. */
function signalrLogger(terminal: Terminal): ILogger {
  return {
    log: (level, message) => {
      if (level >= LogLevel.Debug) terminal.trace(`signalr ${LogLevel[level]}: ${message}`);
    },
  };
}
