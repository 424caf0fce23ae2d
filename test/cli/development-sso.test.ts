import 'reflect-metadata';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDevelopmentProcess } from '../fixtures/development-process.js';
import { startFullStack } from '../fixtures/stack.js';
import { runCli, startClient } from './cli-process.js';

test('against npm start on other ports, the gateway URL is the only setting the CLI needs', { timeout: 90_000 }, async () => {
  const gateway = await startDevelopmentProcess();
  try {
    await gateway.waitFor(/Demo page: /);
    // No SSO_ISSUER, SSO_CLIENT_ID or SSO_CLIENT_SECRET: the gateway says where its development SSO is.
    const env = { SIGNALR_GATEWAY_URL: gateway.gatewayUrl };
    const alice = await startClient('alice', env);
    try {
      const sent = await runCli(['send', 'user', 'alice', 'found the SSO'], env);
      assert.equal(sent.code, 0, sent.stderr);
      await alice.process.waitFor('stdout', /"found the SSO"/);
    } finally {
      await alice.process.stop();
    }
  } finally {
    await gateway.stop();
  }
});

test('against a gateway with its own SSO and no SSO settings, the CLI says what to set (exit 3)', { timeout: 60_000 }, async () => {
  const stack = await startFullStack();
  try {
    const result = await runCli(['broadcast', 'hi'], { SIGNALR_GATEWAY_URL: stack.gatewayUrl });
    assert.equal(result.code, 3, result.stderr);
    assert.equal(
      result.stderr,
      `error: no credentials: the gateway at ${stack.gatewayUrl} runs no development SSO; set SSO_ISSUER, SSO_CLIENT_ID and SSO_CLIENT_SECRET, or pass --token\n`,
    );
  } finally {
    await stack.close();
  }
});
