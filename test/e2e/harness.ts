import assert from 'node:assert/strict';
import { Client } from 'undici';
import type { Env } from '../../src/config/validate-env.js';
import { assertUpstreamContract } from '../contract/azure-contract.js';
import { startGateway, type RunningGateway } from '../fixtures/gateway.js';
import { startTestIssuer, type TestIssuer } from '../fixtures/sso.js';
import { startUpstreamStandIn, type UpstreamStandIn } from '../fixtures/upstream-stand-in.js';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, when it is JSON. */
  json: any;
}

export interface CallOptions {
  body?: unknown;
  /** A raw body, sent as is (with `content-type` from headers, if any). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
  /** Leave out the Authorization header. */
  anonymous?: boolean;
}

export interface Stack {
  standIn: UpstreamStandIn;
  issuer: TestIssuer;
  gateway: RunningGateway;
  /** Calls the gateway with `path` sent exactly as given (no URL normalisation), with a token of every permission. */
  call(method: string, path: string, options?: CallOptions): Promise<Reply>;
  /** Clears what the stand-in recorded (it is still checked against Azure's contract at `close`). */
  resetUpstream(): void;
  /** Closes everything, then fails if any upstream token did not verify or any upstream request broke Azure's contract. */
  close(): Promise<void>;
}

/**
 * The real parts wired together for one test file: an SSO issuer, the upstream stand-in, the gateway. Call `close`
 * in `after`: it also checks every request the stand-in saw against Azure's published contract.
 */
export async function startStack(env: Env = {}): Promise<Stack> {
  const [issuer, standIn] = await Promise.all([startTestIssuer(), startUpstreamStandIn()]);
  const gateway = await startGateway({ ...issuer.env, SIGNALR_CONNECTION_STRING: standIn.connectionString, ...env });
  const client = new Client(gateway.url);
  const token = await issuer.token();
  const checked: typeof standIn.requests = [];
  const checkUpstream = (): void => {
    checked.push(...standIn.requests.splice(0));
  };
  const close = async (): Promise<void> => {
    await client.close();
    await gateway.close();
    await Promise.all([standIn.close(), issuer.close()]);
    checkUpstream();
    assert.deepEqual(standIn.rejected, [], 'every upstream token verifies');
    assertUpstreamContract(checked);
  };
  return {
    standIn,
    issuer,
    gateway,
    resetUpstream: checkUpstream,
    close,
    async call(method, path, { body, rawBody, headers = {}, anonymous = false } = {}) {
      const json = body === undefined ? undefined : JSON.stringify(body);
      const response = await client.request({
        method: method,
        path,
        headers: {
          ...(anonymous ? {} : { authorization: `Bearer ${token}` }),
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: rawBody ?? json,
      });
      const text = await response.body.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.statusCode, headers: response.headers, text, json: parsed };
    },
  };
}
