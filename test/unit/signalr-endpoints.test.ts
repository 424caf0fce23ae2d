import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { SignalRConfig } from '../../src/config/signalr.config.js';
import { ConfigError, type Env } from '../../src/config/validate-env.js';
import {
  atEveryEndpoint,
  EndpointFailures,
  NegotiateRouter,
  whereFound,
  type EndpointOutcome,
  type RoutedEndpoint,
} from '../../src/signalr/endpoint-router.js';
import { UpstreamError } from '../../src/signalr/upstream-error.js';
import { restCalls } from '../../src/signalr/urls.js';

const KEY = 'S3cr3tKey-never-printed';
const at = (host: string): string => `Endpoint=https://${host};AccessKey=${KEY};Version=1.0;`;

/** Every problem line of the ConfigError `env` gives. */
function problemsOf(env: Env): string[] {
  try {
    SignalRConfig.fromEnv(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(!error.message.includes(KEY), 'never the secret');
    return error.problems.map(({ variable, rule }) => `${variable}: ${rule}`);
  }
  assert.fail('no ConfigError');
}

describe('SIGNALR_ENDPOINTS: several SignalR instances, validated once', () => {
  it('reads names, types (primary by default) and one connection string per endpoint, in order', () => {
    const config = SignalRConfig.fromEnv({
      SIGNALR_ENDPOINTS: ' East, west:primary ,Backup:Secondary',
      SIGNALR_CONNECTION_STRING_EAST: at('east.example'),
      SIGNALR_CONNECTION_STRING_WEST: at('west.example'),
      SIGNALR_CONNECTION_STRING_BACKUP: at('backup.example'),
      SIGNALR_HEALTH_CHECK_INTERVAL_MS: '2500',
    });
    assert.deepEqual(
      config.endpoints.map(({ name, type, connection }) => [name, type, connection.endpoint.host]),
      [
        ['east', 'primary', 'east.example'],
        ['west', 'primary', 'west.example'],
        ['backup', 'secondary', 'backup.example'],
      ],
    );
    assert.equal(config.healthCheckIntervalMs, 2500);
  });

  it('keeps SIGNALR_CONNECTION_STRING as one primary named default; probes every 10 s by default', () => {
    const config = SignalRConfig.fromEnv({ SIGNALR_CONNECTION_STRING: at('one.example') });
    assert.deepEqual(
      config.endpoints.map(({ name, type }) => [name, type]),
      [['default', 'primary']],
    );
    assert.equal(config.healthCheckIntervalMs, 10_000);
  });

  it('refuses both forms at once', () => {
    assert.deepEqual(
      problemsOf({ SIGNALR_CONNECTION_STRING: at('one.example'), SIGNALR_ENDPOINTS: 'east', SIGNALR_CONNECTION_STRING_EAST: at('east.example') }),
      ['SIGNALR_CONNECTION_STRING: must not be set together with SIGNALR_ENDPOINTS: give each endpoint its SIGNALR_CONNECTION_STRING_<NAME> instead'],
    );
  });

  it('names bad entries, unknown types, duplicates (case-insensitively) and a missing connection string', () => {
    assert.deepEqual(
      problemsOf({
        SIGNALR_ENDPOINTS: 'east,9lives,west:tertiary,EAST:secondary,north,',
        SIGNALR_CONNECTION_STRING_EAST: at('east.example'),
      }),
      [
        "SIGNALR_ENDPOINTS: '9lives' is not a name (a letter, then up to 31 letters, digits or _), optionally followed by :primary or :secondary",
        "SIGNALR_ENDPOINTS: west: the type after ':' must be primary or secondary",
        'SIGNALR_ENDPOINTS: east is listed twice (names are case-insensitive: each is one SIGNALR_CONNECTION_STRING_<NAME>)',
        "SIGNALR_CONNECTION_STRING_NORTH: is required: SIGNALR_ENDPOINTS lists 'north'",
      ],
    );
  });

  it('needs a primary, as Azure does (AzureSignalRNoPrimaryEndpointException)', () => {
    assert.deepEqual(problemsOf({ SIGNALR_ENDPOINTS: 'backup:secondary', SIGNALR_CONNECTION_STRING_BACKUP: at('backup.example') }), [
      'SIGNALR_ENDPOINTS: needs at least one primary endpoint (negotiate uses secondaries only while no primary is healthy)',
    ]);
  });

  it('names a connection string of an endpoint that is not listed (a typo)', () => {
    assert.deepEqual(
      problemsOf({ SIGNALR_ENDPOINTS: 'east', SIGNALR_CONNECTION_STRING_EAST: at('east.example'), SIGNALR_CONNECTION_STRING_EST: at('west.example') }),
      ["SIGNALR_CONNECTION_STRING_EST: is set, but SIGNALR_ENDPOINTS does not list 'est'"],
    );
  });

  it('refuses the same instance twice (each message would arrive twice), and a bad connection string under its own variable', () => {
    assert.deepEqual(
      problemsOf({
        SIGNALR_ENDPOINTS: 'east,west,south',
        SIGNALR_CONNECTION_STRING_EAST: at('east.example'),
        SIGNALR_CONNECTION_STRING_WEST: at('east.example'),
        SIGNALR_CONNECTION_STRING_SOUTH: 'Endpoint=https://south.example',
      }),
      [
        'SIGNALR_CONNECTION_STRING_WEST: has the same ServerEndpoint (or Endpoint and Port) as SIGNALR_CONNECTION_STRING_EAST: each endpoint must be a different SignalR instance',
        'SIGNALR_CONNECTION_STRING_SOUTH: AccessKey is required.',
      ],
    );
  });

  it('asks for one of the two forms when neither is set', () => {
    assert.match(problemsOf({})[0], /^SIGNALR_CONNECTION_STRING: is required, .* \(or SIGNALR_ENDPOINTS for several instances\)$/);
  });

  it('counts SIGNALR_ENDPOINTS as the SignalR setting in production, and starts no embedded emulator for it elsewhere', () => {
    const env = { SIGNALR_ENDPOINTS: 'east', SIGNALR_CONNECTION_STRING_EAST: at('east.example'), SSO_ISSUER: 'https://sso.example', SSO_AUDIENCE: 'api://g' };
    assert.equal(loadConfig({ ...env, NODE_ENV: 'production' }).signalr.endpoints[0].name, 'east');
    const development = loadConfig(env);
    assert.equal(development.development.emulatorPort, undefined);
    assert.equal(development.signalr.endpoints[0].connection.endpoint.host, 'east.example');
  });
});

const east: RoutedEndpoint = { name: 'east', type: 'primary' };
const west: RoutedEndpoint = { name: 'west', type: 'primary' };
const backup: RoutedEndpoint = { name: 'backup', type: 'secondary' };

describe("negotiate routing: Azure's default endpoint router", () => {
  it('spreads clients evenly over the healthy primaries, round robin', () => {
    const router = new NegotiateRouter([east, west, backup]);
    const picks = Array.from({ length: 6 }, () => router.pick(() => true)?.name);
    assert.deepEqual(picks, ['east', 'west', 'east', 'west', 'east', 'west']);
  });

  it('skips a primary that is down; uses a secondary only when no primary is healthy; none when nothing is', () => {
    const router = new NegotiateRouter([east, west, backup]);
    assert.deepEqual(
      Array.from({ length: 3 }, () => router.pick((endpoint) => endpoint !== east)?.name),
      ['west', 'west', 'west'],
    );
    assert.equal(router.pick((endpoint) => endpoint === backup)?.name, 'backup');
    assert.equal(
      router.pick(() => false),
      undefined,
    );
  });
});

describe('combining the endpoints’ answers', () => {
  const call = restCalls.sendToUser({ hub: 'chat' }, 'ann');
  const unreachable = UpstreamError.fromFailure(call, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), false);
  const absent = UpstreamError.fromStatus(restCalls.closeConnection({ hub: 'chat' }, 'c1'), 404, 'Warning.Connection.NotExisted');
  const ok = (endpoint: RoutedEndpoint, status = 202): EndpointOutcome<{ status: number }> => ({ endpoint, kind: 'ok', result: { status } });

  it('an operation for every endpoint succeeds only when every endpoint took it', () => {
    assert.deepEqual(atEveryEndpoint('sendToUser', [ok(east), ok(west)]), { status: 202 });
    assert.throws(
      () => atEveryEndpoint('sendToUser', [ok(east), { endpoint: west, kind: 'failed', error: unreachable }]),
      (error: unknown) =>
        error instanceof EndpointFailures &&
        error.reached.map(({ name }) => name).join() === 'east' &&
        error.firstFailure === unreachable &&
        /west/.test(error.message),
    );
  });

  it("a found answer wins; every endpoint's 'absent' is the answer; an absent plus a failure is not known", () => {
    const notThere: EndpointOutcome<{ status: number }> = { endpoint: east, kind: 'absent', result: { status: 404 } };
    assert.deepEqual(whereFound('userExists', [notThere, { endpoint: west, kind: 'failed', error: unreachable }, ok(backup, 200)]), { status: 200 });
    assert.deepEqual(whereFound('userExists', [notThere, { ...notThere, endpoint: west }]), { status: 404 });
    assert.throws(
      () =>
        whereFound('closeConnection', [
          { endpoint: east, kind: 'absent', error: absent },
          { endpoint: west, kind: 'absent', error: absent },
        ]),
      (error: unknown) => error === absent,
    );
    assert.throws(
      () => whereFound('userExists', [notThere, { endpoint: west, kind: 'failed', error: unreachable }]),
      (error: unknown) => error instanceof EndpointFailures && error.reached.length === 0,
    );
  });
});
