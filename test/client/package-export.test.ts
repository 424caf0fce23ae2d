import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { repositoryRoot } from '../fixtures/repository.js';

const run = promisify(execFile);

/**
 * `signalr-gateway/client` as a service imports it: src/client compiled with the build's settings
 * (tsconfig.build.json, into dist/) beside this package.json, then a consumer type-checked against the declarations
 * the `types` condition names and run, both through the package's `exports` (Node's self-reference). Only the client
 * is compiled, in a temporary folder, so the test needs no `npm run build` first and leaves dist/ alone.
 */
test('`import { createGatewayClient } from "signalr-gateway/client"` type-checks and runs from the built files', { timeout: 120_000 }, async () => {
  const root = repositoryRoot();
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const folder = mkdtempSync(join(tmpdir(), 'signalr-gateway-package-'));
  try {
    copyFileSync(join(root, 'package.json'), join(folder, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(folder, 'node_modules'), 'dir');
    writeFileSync(
      join(folder, 'tsconfig.client.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.build.json'),
        compilerOptions: { rootDir: join(root, 'src'), outDir: join(folder, 'dist'), sourceMap: false },
        include: [],
        files: [join(root, 'src', 'client', 'index.ts')],
      }),
    );
    await run(process.execPath, [tsc, '-p', join(folder, 'tsconfig.client.json')]);

    writeFileSync(
      join(folder, 'consumer.ts'),
      [
        "import { createGatewayClient, type ProblemDetails } from 'signalr-gateway/client';",
        "const gateway = createGatewayClient({ baseUrl: 'http://127.0.0.1:1', token: async () => 'token' });",
        "export const send = () => gateway.POST('/api/hubs/{hub}/users/{user}/:send', { params: { path: { hub: 'chat', user: 'alice' } }, body: { target: 'newMessage', arguments: ['hi'] } });",
        'export const code = (problem: ProblemDetails): string => problem.code;',
        'export { createGatewayClient };',
      ].join('\n'),
    );
    writeFileSync(
      join(folder, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.json'),
        compilerOptions: { rootDir: folder, outDir: folder, sourceMap: false, skipLibCheck: false },
        include: [],
        files: [join(folder, 'consumer.ts')],
      }),
    );
    // A type error (a wrong path, body or export) fails here, with tsc's message.
    await run(process.execPath, [tsc, '-p', join(folder, 'tsconfig.json')]).catch((error: { stdout?: string }) => assert.fail(`tsc: ${error.stdout}`));

    const consumer = (await import(pathToFileURL(join(folder, 'consumer.js')).href)) as { createGatewayClient: unknown };
    assert.equal(typeof consumer.createGatewayClient, 'function');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
