import * as signalR from '@microsoft/signalr';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import WebSocket from 'ws';
import { Inbox, withTimeout } from '../emulator/helpers.js';
import type { EmulatorProcess } from '../fixtures/development-process.js';
import { SIGNALR_RESOURCE, startEntraAuthority, startEntraEmulator, type EntraAuthority, type IssuedToken } from '../fixtures/entra-authority.js';
import { startTestIssuer, type TestIssuer } from '../fixtures/sso.js';
import { bearer, eventually, freePort, http, type Reply } from '../fixtures/stack.js';

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** A gateway process (main.js, what `npm start` runs) and everything it printed, stdout and stderr together. */
interface Gateway {
  url: string;
  metricsUrl: string;
  output(): string;
  stop(): Promise<void>;
}

function spawnGateway(env: Record<string, string>, port: number, metricsPort: number): Gateway {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Microsoft Entra ID upstream authentication, end to end and over real sockets: gateway processes with each Entra
 * connection-string form, the real @azure/identity credentials inside them, a local Entra-like authority over TLS
 * (trusted through NODE_EXTRA_CA_CERTS, which is why the gateway is a child process), the emulator in Entra mode
 * (it accepts only the authority's tokens for https://signalr.azure.com and client tokens signed with its temporary
 * keys), and a real @microsoft/signalr client that connects with the token negotiate gave it.
 */
describe('end to end: Microsoft Entra ID upstream authentication (gateway processes, local authority, emulator in Entra mode)', () => {
  let authority: EntraAuthority;
  let sso: TestIssuer;
  let emulator: EmulatorProcess;
  let serviceToken: string;
  const gateways: Gateway[] = [];

  before(async () => {
    [authority, sso] = await Promise.all([startEntraAuthority(), startTestIssuer()]);
    emulator = await startEntraEmulator(authority);
    serviceToken = await sso.token();
  });

  after(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await emulator?.close();
    await Promise.all([authority?.close(), sso?.close()]);
  });

  /** A gateway process whose upstream is the Entra-mode emulator, authenticated as `authentication` says; resolves once it listens. */
  async function startGateway(authentication: string, env: Record<string, string> = {}): Promise<Gateway> {
    const [port, metricsPort] = await Promise.all([freePort(), freePort()]);
    const gateway = spawnGateway(
      {
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        SIGNALR_CONNECTION_STRING: `Endpoint=http://127.0.0.1;Port=${emulator.port};${authentication};Version=1.0;`,
        ...sso.env,
        // Service tokens name their client in client_id: negotiate takes it as the user.
        SSO_USER_CLAIM: 'client_id',
        NODE_EXTRA_CA_CERTS: authority.caCertPath,
        AZURE_AUTHORITY_HOST: authority.authorityHost,
        SIGNALR_ENTRA_DISABLE_INSTANCE_DISCOVERY: 'true',
        ...env,
      },
      port,
      metricsPort,
    );
    gateways.push(gateway);
    await eventually(
      async () => (await http('GET', `${gateway.url}/healthz`).catch(() => undefined))?.status === 200,
      `the gateway to listen:\n${gateway.output()}`,
      30_000,
    );
    return gateway;
  }

  /** The tokens the authority issued while `action` ran. */
  async function issuedDuring(action: () => Promise<void>): Promise<IssuedToken[]> {
    const before = authority.tokensIssued().length;
    await action();
    return authority.tokensIssued().slice(before);
  }

  /**
   * The whole path with Entra: ready (signalr-auth up), a client connected with negotiate's token (signed with the
   * service's temporary key, `kid` = its KeyId) receives a send made through the gateway's REST API (an Entra bearer).
   */
  async function provesTheFlow(gateway: Gateway): Promise<void> {
    const ready = await eventually(async () => {
      const reply = await http('GET', `${gateway.url}/readyz`);
      return reply.status === 200 ? reply : undefined;
    }, `the gateway to be ready:\n${gateway.output()}`);
    assert.equal(ready.json.details['signalr-auth'].status, 'up');

    const negotiated = await http('POST', `${gateway.url}/hubs/chat/negotiate?negotiateVersion=1`, { headers: bearer(serviceToken) });
    assert.equal(negotiated.status, 200, negotiated.text);
    const header = decodeProtectedHeader(negotiated.json.accessToken as string);
    assert.equal(header.alg, 'HS256');
    assert.ok(typeof header.kid === 'string' && header.kid.length > 0, 'the client token names the temporary key it was signed with');

    // WebSocket is honoured by the client but left out of its published typings.
    const options = { transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => serviceToken, WebSocket };
    const client = new signalR.HubConnectionBuilder().withUrl(`${gateway.url}/hubs/chat`, options).configureLogging(signalR.LogLevel.None).build();
    const inbox = new Inbox(client, ['entraMessage']);
    await withTimeout(client.start(), 'the client to connect with the token negotiate gave it');
    try {
      const text = `hello ${randomBytes(4).toString('hex')}`;
      const sent = await http('POST', `${gateway.url}/api/hubs/chat/:send`, {
        headers: bearer(serviceToken),
        body: { target: 'entraMessage', arguments: [text] },
      });
      assert.equal(sent.status, 202, sent.text);
      assert.deepEqual((await inbox.next('entraMessage')).args, [text]);
    } finally {
      await client.stop();
    }

    const metrics = await (await fetch(gateway.metricsUrl)).text();
    assert.match(metrics, /signalr_gateway_entra_fetches_total\{what="token",outcome="success"\} [1-9]/);
    assert.match(metrics, /signalr_gateway_entra_fetches_total\{what="access-key",outcome="success"\} [1-9]/);
  }

  it('azure.app with a ClientSecret: ClientSecretCredential', async () => {
    const { clientId, clientSecret } = authority.app;
    let gateway!: Gateway;
    const issued = await issuedDuring(async () => {
      gateway = await startGateway(`AuthType=azure.app;ClientId=${clientId};TenantId=${authority.tenantId};ClientSecret=${clientSecret}`);
      await provesTheFlow(gateway);
    });
    assert.ok(issued.length > 0);
    assert.deepEqual(
      new Set(issued.map((token) => JSON.stringify(token))),
      new Set([JSON.stringify({ flow: 'client_secret', clientId, audience: SIGNALR_RESOURCE })]),
    );
    assert.doesNotMatch(gateway.output(), new RegExp(clientSecret), 'the secret is never logged');
  });

  it('azure.app with ClientCert, a PEM file: ClientCertificateCredential', async () => {
    const { clientId, certificatePath } = authority.app;
    const issued = await issuedDuring(async () => {
      await provesTheFlow(await startGateway(`AuthType=azure.app;ClientId=${clientId};TenantId=${authority.tenantId};ClientCert=${certificatePath}`));
    });
    assert.ok(issued.length > 0);
    for (const token of issued) assert.deepEqual(token, { flow: 'client_certificate', clientId, audience: SIGNALR_RESOURCE });
  });

  it("azure.msi with a user-assigned ClientId: ManagedIdentityCredential over App Service's IDENTITY_ENDPOINT", async () => {
    const { endpoint, header, userAssignedClientId } = authority.managedIdentity;
    const issued = await issuedDuring(async () => {
      await provesTheFlow(await startGateway(`AuthType=azure.msi;ClientId=${userAssignedClientId}`, { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: header }));
    });
    assert.ok(issued.length > 0);
    for (const token of issued) assert.deepEqual(token, { flow: 'managed_identity', clientId: userAssignedClientId, audience: SIGNALR_RESOURCE });
  });

  it('aad (legacy) with neither ClientId nor TenantId: the system-assigned managed identity', async () => {
    const { endpoint, header, userAssignedClientId } = authority.managedIdentity;
    const issued = await issuedDuring(async () => {
      await provesTheFlow(await startGateway('AuthType=aad', { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: header }));
    });
    assert.ok(issued.length > 0);
    for (const token of issued) {
      assert.equal(token.flow, 'managed_identity');
      assert.notEqual(token.clientId, userAssignedClientId, 'no client id asked for: the system-assigned identity');
    }
  });

  it('azure: DefaultAzureCredential from AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_AUTHORITY_HOST', async () => {
    const { clientId, clientSecret } = authority.app;
    const issued = await issuedDuring(async () => {
      await provesTheFlow(
        await startGateway('AuthType=azure', { AZURE_TENANT_ID: authority.tenantId, AZURE_CLIENT_ID: clientId, AZURE_CLIENT_SECRET: clientSecret }),
      );
    });
    assert.ok(issued.length > 0);
    for (const token of issued) assert.deepEqual(token, { flow: 'client_secret', clientId, audience: SIGNALR_RESOURCE });
  });

  it('a wrong client secret: /readyz 503 and a send 503 upstream-auth-unavailable, both saying why, the secret nowhere', async () => {
    const wrong = `wrong-${randomBytes(12).toString('hex')}`;
    let gateway!: Gateway;
    let ready!: Reply;
    const issued = await issuedDuring(async () => {
      gateway = await startGateway(`AuthType=azure.app;ClientId=${authority.app.clientId};TenantId=${authority.tenantId};ClientSecret=${wrong}`);
      ready = await eventually(async () => {
        const reply = await http('GET', `${gateway.url}/readyz`);
        return /signalr-auth/.test(reply.text) ? reply : undefined;
      }, `/readyz to report signalr-auth:\n${gateway.output()}`);
    });
    assert.deepEqual(issued, [], 'the authority issued nothing');
    assert.equal(ready.status, 503);
    assert.equal(ready.json.code, 'not-ready');
    assert.match(
      ready.json.detail,
      /signalr-auth \(No Microsoft Entra token for Azure SignalR from ClientSecretCredential after 3 attempts: .*AADSTS7000215: Invalid client secret provided/,
    );

    const sent = await http('POST', `${gateway.url}/api/hubs/chat/:send`, { headers: bearer(serviceToken), body: { target: 'm', arguments: [] } });
    assert.equal(sent.status, 503);
    assert.equal(sent.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(sent.json.code, 'upstream-auth-unavailable');
    assert.match(
      sent.json.detail,
      /^No Microsoft Entra token for Azure SignalR from ClientSecretCredential after 3 attempts: .*AADSTS7000215: Invalid client secret provided/,
    );

    const negotiated = await http('POST', `${gateway.url}/hubs/chat/negotiate?negotiateVersion=1`, { headers: bearer(serviceToken) });
    assert.equal(negotiated.status, 503);
    assert.equal(negotiated.json.code, 'upstream-auth-unavailable');
    assert.match(negotiated.json.detail, /^No temporary access key from Azure SignalR \(No Microsoft Entra token .*AADSTS7000215/);

    await gateway.stop();
    for (const text of [ready.text, sent.text, negotiated.text, gateway.output()])
      assert.ok(!text.includes(wrong), 'the secret appears in no answer and no log line');
    assert.match(gateway.output(), /AADSTS7000215/, 'the logs say why');
  });
});
