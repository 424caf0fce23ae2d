import 'reflect-metadata';
import * as signalR from '@microsoft/signalr';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startFullStack, type FullStack } from '../fixtures/stack.js';
import { CLI, CliProcess, received, runCli, startClient, type Finished } from './cli-process.js';

/** One readable line on stderr: no stack trace, no token. */
function assertOneLineError(result: Finished, pattern: RegExp): void {
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got: ${result.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at |eyJ/);
}

/** A port that was free a moment ago and where nothing listens now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('signalr-gateway CLI against a running development stack', () => {
  let stack: FullStack;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    stack = await startFullStack();
    env = {
      SIGNALR_GATEWAY_URL: stack.gatewayUrl,
      SSO_ISSUER: stack.sso.issuer,
      SSO_CLIENT_SECRET: stack.sso.service.clientSecret,
      SIGNALR_GATEWAY_HUB: 'chat',
    };
  });
  after(() => stack?.close());

  test('each one-shot send kind reaches the right clients only', { timeout: 120_000 }, async () => {
    const clients: CliProcess[] = [];
    try {
      const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((user) => startClient(user, env)));
      clients.push(alice.process, bob.process, carol.process);
      const cli = async (...args: string[]): Promise<string> => {
        const result = await runCli(args, env);
        assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
        return result.stdout.trim();
      };

      assert.equal(await cli('add', 'user', 'bob', 'room1'), 'added user bob to group room1');
      assert.equal(await cli('add', 'connection', carol.connectionId, 'room2'), `added connection ${carol.connectionId} to group room2`);
      assert.equal(await cli('send', 'user', 'alice', 'to', 'alice'), 'sent to user alice');
      assert.equal(await cli('send', 'users', 'alice,bob', 'to alice and bob'), 'sent to users alice, bob');
      assert.equal(await cli('send', 'group', 'room1', 'to room1'), 'sent to group room1');
      assert.equal(await cli('send', 'groups', 'room1,room2', 'to both rooms', '--sender', 'ops'), 'sent to groups room1, room2');
      assert.equal(await cli('send', 'connection', carol.connectionId, "to carol's connection"), `sent to connection ${carol.connectionId}`);
      assert.equal(await cli('broadcast', 'to everyone', '--target', 'announce'), 'broadcast to hub chat');

      // Each connection receives in order, so once the broadcast is there every earlier message is too.
      await Promise.all(clients.map((client) => client.waitFor('stdout', /"announce"/)));
      assert.deepEqual(received(alice.process), [
        ['broadcastMessage', 'server', 'to alice'],
        ['broadcastMessage', 'server', 'to alice and bob'],
        ['announce', 'server', 'to everyone'],
      ]);
      assert.deepEqual(received(bob.process), [
        ['broadcastMessage', 'server', 'to alice and bob'],
        ['broadcastMessage', 'server', 'to room1'],
        ['broadcastMessage', 'ops', 'to both rooms'],
        ['announce', 'server', 'to everyone'],
      ]);
      assert.deepEqual(received(carol.process), [
        ['broadcastMessage', 'ops', 'to both rooms'],
        ['broadcastMessage', 'server', "to carol's connection"],
        ['announce', 'server', 'to everyone'],
      ]);

      // Leaving a group and excluding a connection are honoured too.
      assert.equal(await cli('remove', 'user', 'bob', 'room1'), 'removed user bob from group room1');
      assert.equal(await cli('broadcast', 'not to carol', '--exclude', carol.connectionId, '--target', 'last'), 'broadcast to hub chat');
      assert.equal(await cli('send', 'groups', 'room1,room2', 'room check', '--target', 'last'), 'sent to groups room1, room2');
      await carol.process.waitFor('stdout', /"room check"/);
      await Promise.all([alice.process, bob.process].map((client) => client.waitFor('stdout', /"not to carol"/)));
      assert.equal(received(bob.process).filter(([, , text]) => text === 'room check').length, 0);
      assert.equal(received(carol.process).filter(([, , text]) => text === 'not to carol').length, 0);
    } finally {
      await Promise.all(clients.map((client) => client.stop()));
    }
  });

  test('exists answers with exit code 0 or 5, and --json prints one object', { timeout: 60_000 }, async () => {
    const alice = await startClient('alice', env);
    try {
      const yes = await runCli(['exists', 'user', 'alice', '--json'], env);
      assert.equal(yes.code, 0, yes.stderr);
      assert.deepEqual(JSON.parse(yes.stdout), { ok: true, exitCode: 0, summary: 'user alice is connected', exists: true });
      const connection = await runCli(['exists', 'connection', alice.connectionId], env);
      assert.equal(connection.code, 0, connection.stderr);

      const no = await runCli(['exists', 'user', 'nobody'], env);
      assert.equal(no.code, 5);
      assert.equal(no.stdout.trim(), 'user nobody is not connected');
      assert.equal((await runCli(['exists', 'group', 'empty-room'], env)).code, 5);

      // Connection ids are base64url: one starting with "-" is still an argument. Other names take "--" first.
      const dashed = await runCli(['exists', 'connection', '-n4jEPQT-xZoQ8flYhi5eg'], env);
      assert.equal(dashed.code, 5, dashed.stderr);
      assert.equal(dashed.stdout.trim(), 'connection -n4jEPQT-xZoQ8flYhi5eg does not exist');
      const dashedUser = await runCli(['exists', 'user', '--', '-dash'], env);
      assert.equal(dashedUser.stdout.trim(), 'user -dash is not connected');
    } finally {
      await alice.process.stop();
    }
  });

  test("members lists a group's connections, invoke prints a client's result", { timeout: 60_000 }, async () => {
    const token = await stack.userToken('ivy');
    const options = { transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => token, WebSocket };
    const client = new signalR.HubConnectionBuilder().withUrl(`${stack.gatewayUrl}/hubs/chat`, options).configureLogging(signalR.LogLevel.None).build();
    client.on('status', (n: number) => ({ ok: true, n }));
    await client.start();
    try {
      const id = client.connectionId!;
      const cli = async (...args: string[]): Promise<string> => {
        const result = await runCli(args, env);
        assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
        return result.stdout.trim();
      };
      assert.equal(await cli('members', 'cli-room'), 'group cli-room has no connections');
      await cli('add', 'connection', id, 'cli-room');
      assert.equal(await cli('members', 'cli-room'), `group cli-room has 1 connection(s): ${id} (ivy)`);
      assert.deepEqual(JSON.parse(await cli('members', 'cli-room', '--json')).members, [{ connectionId: id, userId: 'ivy' }]);

      assert.equal(await cli('invoke', id, 'status', '[41]'), `connection ${id} answered status: {"ok":true,"n":41}`);
      assert.deepEqual(JSON.parse(await cli('invoke', id, 'status', '[1,', '2]', '--json')).result, { ok: true, n: 1 });
      const missing = await runCli(['invoke', id, 'nothingHere'], env);
      assert.equal(missing.code, 4, missing.stderr);
      assertOneLineError(missing, /^error: the gateway answered 502 .*no result/);
      const badArguments = await runCli(['invoke', id, 'status', '{"n":1}'], env);
      assert.equal(badArguments.code, 2);
      assertOneLineError(badArguments, /^error: the arguments must be a JSON array/);
    } finally {
      await client.stop();
    }
  });

  test('bad input exits 2 with one readable line', async () => {
    assertOneLineError(
      await runCli(['--hub', '1nvalid', 'send', 'user', 'alice', 'hi'], env),
      /^error: the gateway answered 400 Bad Request: hub must start with a letter/,
    );
    assertOneLineError(
      await runCli(['add', 'user', 'alice', 'room1', '--ttl', 'soon'], env),
      /^error: the gateway answered 400 Bad Request: ttl must be an integer/,
    );
    assertOneLineError(await runCli(['send', 'user', '', 'hi'], env), /^error: <user> must not be empty$/);
    // URL parsing would make `users/../:send` the hub's `/:send`: a broadcast. Such a name is refused instead.
    const dots = await runCli(['send', 'user', '..', 'hi'], env);
    assert.equal(dots.code, 2);
    assertOneLineError(dots, /^error: user must not be "\.\.": no URL can carry it as a path segment$/);
    const usage = await runCli(['send', 'user', 'alice'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /missing required argument 'message'/);
    const unknown = await runCli(['sned', 'user', 'alice', 'hi'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'sned'/);
    for (const result of [await runCli(['--hub', '1nvalid', 'exists', 'user', 'x'], env), await runCli(['send', 'users', ',', 'hi'], env)]) {
      assert.equal(result.code, 2, result.stderr);
    }
  });

  test('a wrong secret or a bad token exits 3, and neither is printed', async () => {
    const wrongSecret = await runCli(['send', 'user', 'alice', 'hi'], { ...env, SSO_CLIENT_SECRET: 'not-the-secret' });
    assert.equal(wrongSecret.code, 3);
    assertOneLineError(wrongSecret, /^error: the SSO refused a token to client "signalr-gateway-service": invalid_client/);
    assert.doesNotMatch(wrongSecret.stdout + wrongSecret.stderr, /not-the-secret/);

    const badToken = await runCli(['send', 'user', 'alice', 'hi', '--verbose'], {
      ...env,
      SIGNALR_GATEWAY_TOKEN: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2VjcmV0',
    });
    assert.equal(badToken.code, 3);
    assert.match(badToken.stderr, /error: the gateway answered 401 Unauthorized/);
    assert.doesNotMatch(badToken.stdout + badToken.stderr, /eyJhbGciOiJub25lIn0|c2VjcmV0/);

    // The prompt checks the credentials before it reads a line.
    const server = await runCli(['server'], { ...env, SSO_CLIENT_SECRET: 'not-the-secret' }, 'broadcast never sent\n');
    assert.equal(server.code, 3);
    assertOneLineError(server, /^error: the SSO refused a token/);

    // No secret and an issuer that is not the local development one: nothing to authenticate with.
    const { SSO_CLIENT_SECRET: _secret, ...withoutSecret } = env;
    const missing = await runCli(['send', 'user', 'alice', 'hi', '--json'], withoutSecret);
    assert.equal(missing.code, 3);
    assert.deepEqual(Object.keys(JSON.parse(missing.stdout)), ['ok', 'exitCode', 'error']);
    assert.match(JSON.parse(missing.stdout).error, /no credentials .*SSO_CLIENT_SECRET/);
  });

  test('a gateway that is down exits 4', async () => {
    const down = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(['send', 'user', 'alice', 'hi', '--gateway', down], env);
    assert.equal(result.code, 4);
    assertOneLineError(result, new RegExp(`^error: cannot reach the gateway at ${down} \\(ECONNREFUSED\\)$`));
    const client = await runCli(['client', 'alice', '--gateway', down], env);
    assert.equal(client.code, 4);
    assert.match(client.stderr, /cannot reach the gateway/);
  });

  test('a server session driven through stdin reaches the right client process', { timeout: 120_000 }, async () => {
    const processes: CliProcess[] = [];
    try {
      const alice = new CliProcess(['client', 'alice'], env);
      const bob = new CliProcess(['client', 'bob'], env);
      processes.push(alice, bob);
      await Promise.all([alice, bob].map((client) => client.waitFor('stderr', /^connected as /)));

      const server = new CliProcess(['server', '--sender', 'console'], env);
      processes.push(server);
      server.write('send user alice "hello alice"');
      server.write('add user bob team --ttl 600');
      server.write('send group team hello team');
      server.write('exists user bob');
      server.write("broadcast 'bye all' --target farewell");
      server.write('exit');
      assert.equal(await server.exit(), 0, server.stderr.join('\n'));
      assert.deepEqual(server.stdout, [
        'sent to user alice',
        'added user bob to group team for 600 s',
        'sent to group team',
        'user bob is connected',
        'broadcast to hub chat',
      ]);

      // Text output: "<ISO time> <target> <arguments as JSON>".
      const line = (target: string, args: unknown[]) =>
        new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z ${target} ${JSON.stringify(args).replace(/[[\]]/g, '\\$&')}$`);
      await Promise.all([alice, bob].map((client) => client.waitFor('stdout', line('farewell', ['console', 'bye all']))));
      assert.equal(alice.stdout.length, 2);
      assert.match(alice.stdout[0], line('broadcastMessage', ['console', 'hello alice']));
      assert.equal(bob.stdout.length, 2);
      assert.match(bob.stdout[0], line('broadcastMessage', ['console', 'hello team']));

      // Ctrl-C ends a client cleanly, with the status a shell shows for Ctrl-C (what `npx signalr-gateway` returns).
      assert.equal(await alice.stop('SIGINT'), 130);
      assert.match(alice.stderr.at(-1)!, /^disconnected$/);
    } finally {
      await Promise.all(processes.map((process) => process.stop()));
    }
  });

  test('a piped server session ends with the exit code of its first failed command', { timeout: 60_000 }, async () => {
    const result = await runCli(['server'], env, 'help\nsend user alice "unclosed\nbroadcast fine\nadd user alice room --ttl never\n');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /Usage: chat> <command>/);
    assert.match(result.stdout, /broadcast to hub chat/);
    assert.match(result.stderr, /error: unclosed " in: send user alice "unclosed/);
    assert.match(result.stderr, /error: the gateway answered 400 Bad Request: ttl must be/);
    // No prompt and no banner for a script: stderr has the two errors only.
    assert.equal(result.stderr.trim().split('\n').length, 2, result.stderr);
  });

  test('with --json, every outcome of a piped server session is one JSON object on stdout', { timeout: 60_000 }, async () => {
    const result = await runCli(['server', '--json'], env, 'sned user alice hi\nsend user alice\nsend user alice "unclosed\nbroadcast fine\n');
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, '');
    assert.deepEqual(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
      [
        { ok: false, exitCode: 2, error: "unknown command 'sned' (Did you mean send?)" },
        { ok: false, exitCode: 2, error: "missing required argument 'message'" },
        { ok: false, exitCode: 2, error: 'unclosed " in: send user alice "unclosed' },
        { ok: true, exitCode: 0, summary: 'broadcast to hub chat' },
      ],
    );
  });

  test('with --json, usage errors are one JSON object on stdout too', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['send', 'user', 'alice', '--json'], /^missing required argument 'message'$/],
      [['--json', 'sned', 'user', 'alice', 'hi'], /^unknown command 'sned'/],
      [['--json', 'broadcast', 'hi', '--bogus'], /^unknown option '--bogus'/],
      // Before commander has read --json.
      [['--timeout', 'soon', '--json', 'broadcast', 'hi'], /^option '--timeout <seconds>' argument 'soon' is invalid/],
      [['--json'], /^no command given/],
    ];
    for (const [args, error] of cases) {
      const result = await runCli(args, env);
      assert.equal(result.code, 2, args.join(' '));
      const answer = JSON.parse(result.stdout) as { ok: boolean; exitCode: number; error: string };
      assert.deepEqual({ ...answer, error: undefined }, { ok: false, exitCode: 2, error: undefined });
      assert.match(answer.error, error);
      assert.doesNotMatch(result.stderr, /error:/, args.join(' '));
    }
  });

  test('a client reconnects by itself after the service closes its connection', { timeout: 60_000 }, async () => {
    const alice = await startClient('alice', env, ['--verbose']);
    try {
      const closed = await runCli(['close', 'connection', alice.connectionId, 'maintenance'], env);
      assert.equal(closed.code, 0, closed.stderr);
      await alice.process.waitFor('stderr', /^reconnecting: .*maintenance/);
      const [, newId] = await alice.process.waitFor('stderr', /^reconnected, connection id (\S+)$/);
      assert.notEqual(newId, alice.connectionId);
      assert.equal((await runCli(['send', 'user', 'alice', 'after the reconnect'], env)).code, 0);
      await alice.process.waitFor('stdout', /"after the reconnect"/);
      // The SignalR client's own trace (--verbose) is shown, with every token left out.
      assert.ok(alice.process.stderr.some((line) => line.startsWith('[verbose] signalr ')));
      assert.doesNotMatch(alice.process.stderr.join('\n'), /eyJ/);
    } finally {
      await alice.process.stop();
    }
  });

  test('--help documents the commands and the exit codes', async () => {
    const result = await runCli(['--help'], env);
    assert.equal(result.code, 0);
    for (const expected of ['send', 'broadcast', 'add', 'remove', 'close', 'exists', 'server', 'client', 'Exit codes:', '3  authentication failure']) {
      assert.ok(result.stdout.includes(expected), `--help lacks ${expected}`);
    }
  });
});

describe('the CLI as a pipeline stage', () => {
  test('leaves quietly when the reader of its output is gone (`--help | true`)', async () => {
    // `true` exits at once without reading, so every write of the help meets a closed pipe (EPIPE).
    const child = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" --help | true`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const stderr: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    await once(child, 'close');
    assert.equal(Buffer.concat(stderr).toString(), '', 'no EPIPE stack trace');
  });
});
