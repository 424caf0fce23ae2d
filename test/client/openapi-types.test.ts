import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { repositoryRoot } from '../fixtures/repository.js';

test('src/client/openapi-types.ts is what openapi-typescript makes of openapi/openapi.json (run `npm run client:types`)', async () => {
  const root = repositoryRoot();
  // As the openapi-typescript command line writes it (`npm run client:types`): default options, its header first.
  const generated = COMMENT_HEADER + astToString(await openapiTS(pathToFileURL(join(root, 'openapi', 'openapi.json')), { silent: true }));
  assert.equal(readFileSync(join(root, 'src', 'client', 'openapi-types.ts'), 'utf8'), generated);
});
