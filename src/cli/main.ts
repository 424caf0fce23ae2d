#!/usr/bin/env node
import { InvalidArgumentError, Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runClient } from './client.js';
import { DEFAULT_SENDER, DEFAULT_TARGET, type Session } from './commands.js';
import { DEV_GATEWAY_URL, DEV_SERVICE_CLIENT_ID } from '../config/dev-defaults.js';
import { clientCredentials, fixedToken } from './credentials.js';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes.js';
import { GatewayClient } from './gateway-client.js';
import { addActions, newProgram } from './program.js';
import { runPrompt } from './prompt.js';
import { Terminal } from './terminal.js';

interface GlobalOptions {
  gateway: string;
  hub: string;
  application?: string;
  token?: string;
  ssoIssuer?: string;
  ssoClientId: string;
  ssoScope?: string;
  timeout: number;
}

const ENVIRONMENT_HELP = `Credentials: --token (or SIGNALR_GATEWAY_TOKEN) is sent as is; otherwise a service token is obtained from
the SSO by client credentials: SSO_ISSUER (its discovery gives the token endpoint), SSO_CLIENT_ID and
SSO_CLIENT_SECRET. Against a development stack (\`npm start\`, any ports) only --gateway is needed: without
SSO_ISSUER, the gateway says where its development SSO is.`;

const EXAMPLES = `Examples:
  signalr-gateway client alice                        # terminal 1: connect as alice, print messages
  signalr-gateway server                              # terminal 2: interactive prompt
  signalr-gateway send user alice "hello"             # one-shot, for scripts
  signalr-gateway send groups room1,room2 "hi" --json
  signalr-gateway exists user alice --hub chat || echo "alice is offline"`;

function createProgram(terminal: Terminal, setExitCode: (code: ExitCode) => void): Command {
  const program = newProgram('signalr-gateway', terminal)
    .description(
      'Send messages through the signalr-gateway and watch them arrive: one-shot commands for scripts, an interactive server prompt, and a client that connects as a user.',
    )
    .version(packageVersion())
    .addOption(new Option('--gateway <url>', 'gateway base URL').env('SIGNALR_GATEWAY_URL').default(DEV_GATEWAY_URL))
    .addOption(new Option('--hub <hub>', 'hub name').env('SIGNALR_GATEWAY_HUB').default('chat'))
    .addOption(new Option('--application <name>', 'application prefix of the hub').env('SIGNALR_GATEWAY_APPLICATION'))
    .addOption(
      new Option('--token <token>', 'bearer token for the gateway; skips the SSO (prefer the variable: arguments show in ps)').env('SIGNALR_GATEWAY_TOKEN'),
    )
    .addOption(new Option('--sso-issuer <url>', 'SSO issuer for a service token (default: the development SSO the gateway announces)').env('SSO_ISSUER'))
    .addOption(new Option('--sso-client-id <id>', 'SSO client id (its secret: SSO_CLIENT_SECRET)').env('SSO_CLIENT_ID').default(DEV_SERVICE_CLIENT_ID))
    .addOption(new Option('--sso-scope <scopes>', 'scopes to ask the SSO for (default: every gateway permission)').env('SSO_SCOPE'))
    .addOption(new Option('--timeout <seconds>', 'give up on a request after this long').default(30).argParser(positiveNumber))
    .option('--json', 'print answers as JSON, one object per line')
    .option('-v, --verbose', 'trace requests and print stack traces (never tokens)')
    .addHelpText('after', `\n${ENVIRONMENT_HELP}\n\n${EXIT_CODES_HELP}\n\n${EXAMPLES}\n`);

  const context = () => {
    const options = program.opts<GlobalOptions>();
    const http = { timeoutMs: options.timeout * 1000, trace: terminal.trace };
    const token = options.token
      ? fixedToken(options.token)
      : clientCredentials(
          { issuer: options.ssoIssuer, clientId: options.ssoClientId, clientSecret: process.env.SSO_CLIENT_SECRET || undefined, scope: options.ssoScope },
          options.gateway,
          http,
        );
    const gateway = new GatewayClient({ baseUrl: options.gateway, hub: options.hub, application: options.application, token, ...http });
    return { gateway, options };
  };

  addActions(program, async (action, args, options) => {
    const { gateway } = context();
    const outcome = await action.run({ gateway, target: DEFAULT_TARGET, sender: DEFAULT_SENDER }, args, options);
    terminal.outcome(outcome);
    setExitCode(outcome.exitCode);
  });

  program
    .command('server')
    .description('interactive prompt: send, add, remove, close, exists, one command per line (type help)')
    .option('--target <method>', 'client method messages invoke', DEFAULT_TARGET)
    .option('--sender <name>', 'first argument of every message', DEFAULT_SENDER)
    .action(async ({ target, sender }: { target: string; sender: string }) => {
      const { gateway, options } = context();
      const session: Session = { gateway, target, sender };
      // Credentials are checked now rather than at the first command.
      await gateway.authenticate();
      const banner = `hub "${options.hub}" at ${options.gateway}; messages invoke "${target}" with ("${sender}", text). Type help, or exit.`;
      setExitCode(await runPrompt(session, terminal, banner));
    });

  program
    .command('client <name>')
    .description('connect as user <name> and print every message received (Ctrl-C to quit)')
    .addOption(new Option('--minutes-to-expire <minutes>', 'lifetime of each client token').default(60).argParser(positiveNumber))
    .action(async (name: string, { minutesToExpire }: { minutesToExpire: number }) => {
      const { gateway } = context();
      setExitCode(await runClient(gateway, name, terminal, { minutesToExpire }));
    });

  return program;
}

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('Not a positive number.');
  return number;
}

/** The version in package.json, found from wherever the compiled file sits (dist/, a test build). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'signalr-gateway') return manifest.version ?? 'unknown';
    } catch {
      // not here: look one level up
    }
  }
  return 'unknown';
}

async function main(argv: readonly string[]): Promise<ExitCode> {
  // Read from the words before commander parses them: a usage error can come before it reaches --json
  // (`--timeout x --json`), and must be printed as JSON all the same.
  const options = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  const terminal = new Terminal(options.includes('--json'), options.includes('--verbose') || options.includes('-v'));
  let exitCode: ExitCode = ExitCode.Success;
  const program = createProgram(terminal, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return terminal.failure(error);
  }
}

// `signalr-gateway --help | head`: a reader that stops early is not an error of ours; leave as Unix tools do.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});
process.exitCode = await main(process.argv.slice(2));
