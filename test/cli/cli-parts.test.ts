import 'reflect-metadata';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitWords } from '../../src/cli/prompt.js';
import { redact } from '../../src/cli/terminal.js';
import { DEV_GATEWAY_URL } from '../../src/config/dev-defaults.js';
import { ServerConfig } from '../../src/config/server.config.js';

test("the CLI's default gateway is where `npm start` listens", () => {
  assert.equal(DEV_GATEWAY_URL, `http://127.0.0.1:${ServerConfig.fromEnv({}).port}`);
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
