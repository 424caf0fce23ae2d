import 'reflect-metadata';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_GATEWAY_URL, DEV_SERVICE_CLIENT_ID, DEV_SERVICE_CLIENT_SECRET, DEV_SSO_ISSUER } from '../../src/cli/credentials.js';
import { splitWords } from '../../src/cli/prompt.js';
import { redact } from '../../src/cli/terminal.js';
import { DEV_SERVICE_CLIENT_ID as ISSUER_CLIENT_ID } from '../../src/dev/dev-issuer.js';
import { DEV_SERVICE_CLIENT_SECRET as STACK_SECRET, DEV_SSO_PORT } from '../../src/dev/development-stack.js';
import { ServerConfig } from '../../src/config/server.config.js';

test('the CLI defaults match what `npm start` runs', () => {
  assert.equal(DEV_SERVICE_CLIENT_SECRET, STACK_SECRET);
  assert.equal(DEV_SERVICE_CLIENT_ID, ISSUER_CLIENT_ID);
  assert.equal(DEV_SSO_ISSUER, `http://127.0.0.1:${DEV_SSO_PORT}`);
  assert.equal(DEFAULT_GATEWAY_URL, `http://127.0.0.1:${ServerConfig.fromEnv({}).port}`);
});

test('prompt lines split into words as a shell would for simple cases', () => {
  assert.deepEqual(splitWords('  send user alice hello   world '), ['send', 'user', 'alice', 'hello', 'world']);
  assert.deepEqual(splitWords(`send group "room 1" 'it''s' "say \\"hi\\"" a\\ b ""`), ['send', 'group', 'room 1', 'its', 'say "hi"', 'a b', '']);
  assert.deepEqual(splitWords(''), []);
  assert.throws(() => splitWords('send user "alice'), /unclosed "/);
});

test('tokens never reach the terminal', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
  assert.equal(redact(`GET /client/?hub=chat&access_token=abc.def&x=1 failed`), 'GET /client/?hub=chat&access_token=<token>&x=1 failed');
  assert.equal(redact(`Authorization: Bearer ${jwt}`), 'Authorization: Bearer <token>');
  assert.equal(redact(`token ${jwt} expired`), 'token <token> expired');
});
