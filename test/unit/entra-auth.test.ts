import 'reflect-metadata';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { parseConnectionString } from '../../src/config/connection-string.js';
import { ACCESS_KEY_PATH, EntraAccessKey } from '../../src/signalr/entra-access-key.js';
import { EntraAuthError, EntraTokens, SIGNALR_SCOPE } from '../../src/signalr/entra-token.js';
import { SignalRSigner, type EntraSigning } from '../../src/signalr/signer.js';

const MINUTE = 60_000;
const SECRET = 'S3cr3t-client-secret';

/** A TokenCredential whose answers the test decides: each getToken takes the next one (a token, or an error to throw). */
class StubCredential implements TokenCredential {
  readonly scopes: (string | string[])[] = [];
  readonly answers: (AccessToken | Error)[] = [];
  /** Set to hold every answer until released. */
  gate?: Promise<void>;

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
    assert.ok(options?.abortSignal, 'every request has a deadline');
    this.scopes.push(scopes);
    await this.gate;
    const answer = this.answers.shift() ?? new Error('no answer left');
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

const tokenAt = (name: string, now: number, refreshAfter?: number): AccessToken => ({
  token: name,
  expiresOnTimestamp: now + 60 * MINUTE,
  ...(refreshAfter !== undefined && { refreshAfterTimestamp: refreshAfter }),
});

describe('EntraTokens: the Entra bearer of REST calls', () => {
  let now = 0;
  let credential: StubCredential;
  let fetches: string[];
  let tokens: EntraTokens;

  beforeEach(() => {
    now = 1_000_000;
    credential = new StubCredential();
    fetches = [];
    tokens = new EntraTokens(
      credential,
      'StubCredential',
      [SECRET],
      10_000,
      (what, outcome) => fetches.push(`${what} ${outcome}`),
      () => now,
    );
  });

  it('asks for the SignalR scope once and shares one request among concurrent callers', async () => {
    let release!: () => void;
    credential.gate = new Promise((resolve) => (release = resolve));
    credential.answers.push(tokenAt('t1', now));
    const waiting = Promise.all([tokens.token(), tokens.token(), tokens.token()]);
    release();
    assert.deepEqual(await waiting, ['t1', 't1', 't1']);
    assert.deepEqual(await tokens.token(), 't1');
    assert.deepEqual(credential.scopes, [SIGNALR_SCOPE]);
    assert.deepEqual(fetches, ['token success']);
  });

  it('renews after refreshAfterTimestamp in the background, handing out the old token meanwhile', async () => {
    credential.answers.push(tokenAt('t1', now, now + 30 * MINUTE), tokenAt('t2', now + 30 * MINUTE));
    assert.equal(await tokens.token(), 't1');
    now += 29 * MINUTE;
    assert.equal(await tokens.token(), 't1');
    assert.equal(credential.scopes.length, 1);
    now += MINUTE;
    assert.equal(await tokens.token(), 't1', 'still valid: handed out while the new one comes');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await tokens.token(), 't2');
    assert.equal(credential.scopes.length, 2);
  });

  it('without refreshAfterTimestamp renews 5 minutes before expiry, and waits for a new token once the old one is about to expire', async () => {
    credential.answers.push(tokenAt('t1', now), tokenAt('t2', now), tokenAt('t3', now));
    assert.equal(await tokens.token(), 't1');
    now += 54 * MINUTE;
    assert.equal(await tokens.token(), 't1');
    assert.equal(credential.scopes.length, 1);
    now += MINUTE + 1;
    assert.equal(await tokens.token(), 't1');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await tokens.token(), 't2');
    now += 60 * MINUTE - 20_000; // t2 expires within 30 s
    assert.equal(await tokens.token(), 't3');
  });

  it('asks 3 times, then fails with EntraAuthError naming the credential, never the secret; the failure holds 5 s', async () => {
    for (let i = 0; i < 3; i++) credential.answers.push(new Error(`AADSTS7000215: Invalid client secret provided: ${SECRET}\nTrace ID: x`));
    await assert.rejects(tokens.token(), (error: unknown) => {
      assert.ok(error instanceof EntraAuthError);
      assert.equal(error.failure, 'token');
      assert.equal(
        error.message,
        'No Microsoft Entra token for Azure SignalR from StubCredential after 3 attempts: Error: AADSTS7000215: Invalid client secret provided: [redacted]',
      );
      return true;
    });
    assert.deepEqual(fetches, ['token failure', 'token failure', 'token failure']);
    now += 4_999;
    await assert.rejects(tokens.token(), EntraAuthError);
    assert.equal(credential.scopes.length, 3, 'no new request within 5 s of a failure');
    now += 1;
    credential.answers.push(tokenAt('t1', now));
    assert.equal(await tokens.token(), 't1');
  });

  it('keeps handing out a valid token while its renewal fails, asking again only after 5 s', async () => {
    credential.answers.push(tokenAt('t1', now, now + 30 * MINUTE), new Error('down'), new Error('down'), new Error('down'));
    assert.equal(await tokens.token(), 't1');
    now += 30 * MINUTE;
    assert.equal(await tokens.token(), 't1');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(credential.scopes.length, 4, 'one renewal of 3 attempts');
    now += 4_999;
    assert.equal(await tokens.token(), 't1');
    assert.equal(credential.scopes.length, 4, 'no renewal within 5 s of a failed one');
    credential.answers.push(tokenAt('t2', now));
    now += 1;
    assert.equal(await tokens.token(), 't1');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await tokens.token(), 't2');
  });

  it('succeeds on a later attempt of the same request', async () => {
    credential.answers.push(new Error('ECONNRESET'), tokenAt('t1', now));
    assert.equal(await tokens.token(), 't1');
    assert.deepEqual(fetches, ['token failure', 'token success']);
  });
});

/** The service's access-key endpoint: answers as `answer` says and records each request's bearer. */
interface KeyServer {
  url: string;
  bearers: string[];
  answer: { status: number; body?: unknown };
  server: Server;
}

async function keyServer(): Promise<KeyServer> {
  const state: KeyServer = { url: '', bearers: [], answer: { status: 200, body: { KeyId: 'kid-1', AccessKey: 'temporary-key-1' } }, server: createServer() };
  state.server.on('request', (request, response) => {
    assert.equal(request.url, ACCESS_KEY_PATH);
    state.bearers.push(request.headers.authorization ?? '');
    response.writeHead(state.answer.status, { 'content-type': 'application/json' });
    response.end(state.answer.body === undefined ? '' : JSON.stringify(state.answer.body));
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}${ACCESS_KEY_PATH}`;
  return state;
}

describe('EntraAccessKey: the temporary key client tokens are signed with', () => {
  let service: KeyServer;
  let now = 0;
  let sleeps: number[];
  let fetches: string[];
  let key: EntraAccessKey;
  let credential: StubCredential;

  before(async () => {
    service = await keyServer();
  });
  after(() => service.server.close());

  beforeEach(() => {
    now = 5_000_000;
    sleeps = [];
    fetches = [];
    service.bearers = [];
    service.answer = { status: 200, body: { KeyId: 'kid-1', AccessKey: 'temporary-key-1' } };
    credential = new StubCredential();
    for (let i = 0; i < 50; i++) credential.answers.push({ token: 'entra-token', expiresOnTimestamp: Number.MAX_SAFE_INTEGER });
    const onFetch = (what: string, outcome: string): number => fetches.push(`${what} ${outcome}`);
    const tokens = new EntraTokens(credential, 'StubCredential', [], 10_000, onFetch, () => now);
    key = new EntraAccessKey({
      url: service.url,
      tokens,
      timeoutMs: 10_000,
      onFetch,
      now: () => now,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
  });

  const keyFetches = (): number => service.bearers.length;

  it('fetches with the Entra bearer and signs with KeyId as kid; before the first fetch ends, signingKey waits for it', async () => {
    const checking = key.check();
    const signing = await key.signingKey();
    await checking;
    assert.equal(signing.kid, 'kid-1');
    assert.deepEqual(service.bearers, ['Bearer entra-token']);
    assert.deepEqual(fetches, ['token success', 'access-key success']);
  });

  it('renews a key once it is 55 minutes old, not before', async () => {
    await key.check();
    now += 54 * MINUTE;
    await key.check();
    assert.equal(keyFetches(), 1);
    service.answer.body = { KeyId: 'kid-2', AccessKey: 'temporary-key-2' };
    now += MINUTE;
    await key.check();
    assert.equal(keyFetches(), 2);
    assert.equal((await key.signingKey()).kid, 'kid-2');
  });

  it('without a key: 3 attempts 3 s apart, an EntraAuthError saying why, and the next fetch 5 minutes later', async () => {
    service.answer = { status: 403 };
    await key.check();
    assert.equal(keyFetches(), 3);
    assert.deepEqual(sleeps, [3000, 3000]);
    await assert.rejects(key.signingKey(), (error: unknown) => {
      assert.ok(error instanceof EntraAuthError);
      assert.equal(error.failure, 'access-key');
      assert.match(error.message, /^No temporary access key from Azure SignalR \(GET \/api\/v1\/auth\/accessKey: Error: HTTP 403 \(the identity may lack/);
      return true;
    });
    now += 4 * MINUTE + 59_999;
    await key.check();
    assert.equal(keyFetches(), 3, 'no fetch within 5 minutes of a failed one');
    service.answer = { status: 200, body: { KeyId: 'kid-9', AccessKey: 'k' } };
    now += 1;
    await key.check();
    assert.equal(keyFetches(), 4);
    assert.equal((await key.signingKey()).kid, 'kid-9');
  });

  it('while a valid key cannot be renewed it is still used, tried again every check, and expires 110 minutes after its fetch', async () => {
    await key.check();
    service.answer = { status: 500 };
    now += 55 * MINUTE;
    await key.check();
    assert.equal(keyFetches(), 4);
    assert.equal((await key.signingKey()).kid, 'kid-1');
    now += MINUTE;
    await key.check();
    assert.equal(keyFetches(), 7, 'a stale key is renewed at every check');
    now += 54 * MINUTE - 1;
    assert.equal((await key.signingKey()).kid, 'kid-1');
    now += 1;
    await assert.rejects(
      key.signingKey(),
      /^EntraAuthError: The temporary access key of Azure SignalR expired: no successful refresh for 110 minutes \(GET .* HTTP 500\)$/,
    );
  });

  it('fails on an answer without KeyId and AccessKey, not JSON or over 64 KB, without quoting it', async () => {
    service.answer = { status: 200, body: { KeyId: 'kid-1' } };
    await key.check();
    await assert.rejects(key.signingKey(), /the answer has no KeyId and AccessKey strings/);
    service.answer = { status: 200 };
    now += 5 * MINUTE;
    await key.check();
    await assert.rejects(key.signingKey(), /the answer is not JSON\)$/);
    service.answer = { status: 200, body: { KeyId: 'kid-1', AccessKey: 'k'.repeat(70_000) } };
    now += 5 * MINUTE;
    await key.check();
    await assert.rejects(key.signingKey(), /the answer exceeds 65536 bytes\)$/);
  });

  it('reports an Entra token failure as the reason, once per attempt', async () => {
    credential.answers.length = 0;
    for (let i = 0; i < 9; i++) credential.answers.push(new Error('AADSTS700016: Application not found'));
    await key.check();
    assert.equal(keyFetches(), 0);
    await assert.rejects(key.signingKey(), /No temporary access key from Azure SignalR \(No Microsoft Entra token .* AADSTS700016/);
    assert.equal(fetches.filter((fetch) => fetch === 'access-key failure').length, 3);
  });

  it('start() fetches at once and stop() ends the checks', async () => {
    key.start();
    await key.signingKey();
    key.stop();
    now += 60 * MINUTE;
    await key.check();
    assert.equal(keyFetches(), 1, 'a stopped key fetches no more');
  });
});

describe('SignalRSigner with Microsoft Entra ID', () => {
  const connection = parseConnectionString('Endpoint=https://demo.service.signalr.net;AuthType=azure.msi;Version=1.0;');
  const temporaryKey = new TextEncoder().encode('temporary-key-1');
  const entra: EntraSigning = {
    restBearer: () => Promise.resolve('entra-bearer'),
    clientKey: async () => ({ key: await crypto.subtle.importKey('raw', temporaryKey, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), kid: 'kid-1' }),
  };

  it('sends the Entra token as the bearer of every REST call', async () => {
    const signer = new SignalRSigner(connection, 600, () => 1_700_000_000_000, entra);
    assert.equal(await signer.restToken('/api/hubs/chat/:send'), 'entra-bearer');
  });

  it('signs client tokens with the temporary key, kid = KeyId, the same claims as with an AccessKey', async () => {
    const signer = new SignalRSigner(connection, 600, () => 1_700_000_000_000, entra);
    const token = await signer.signClientToken({ hub: 'Chat', userId: 'alice' });
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT', kid: 'kid-1' });
    await jwtVerify(token, temporaryKey, { audience: 'https://demo.service.signalr.net/client/?hub=chat', currentDate: new Date(1_700_000_000_000) });
    assert.equal(decodeJwt(token)['asrs.s.uid'], 'alice');
  });

  it('refuses an Entra connection without its EntraSigning', () => {
    assert.throws(() => new SignalRSigner(connection, 600), /needs its EntraSigning/);
  });
});
