import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the demo page needs to know, served as `/demo/config.json`. */
export interface DemoPageConfig {
  /** The SSO issuer; the page reads its discovery document. */
  issuer: string;
  /** The public client of the authorization code + PKCE sign-in. */
  clientId: string;
  /** The gateway's SSO audience, asked for as the RFC 8707 `resource`. */
  resource: string;
  /** Where negotiate is; absent: the page's own origin. */
  gatewayUrl?: string;
  hub: string;
}

/** The repository's `demo/` folder, whether this module runs from `dist/` or `dist-test/src/`. */
function demoFolder(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'demo');
  }
  throw new Error('The demo page needs the repository: no package.json above this module.');
}

/** The SignalR browser client as npm ships it (global `signalR`). */
const signalrBrowserFolder = (): string => dirname(createRequire(import.meta.url).resolve('@microsoft/signalr/dist/browser/signalr.min.js'));

/**
 * Serves the demo page at `/demo/`: the static files, the SignalR browser bundle next to them, and its config.
 * A Fastify plugin, so the gateway serves it and a test can serve the same page from another origin.
 */
export function demoPage(config: DemoPageConfig) {
  return async (fastify: FastifyInstance): Promise<void> => {
    // Registered before the static files so the route, not a file, answers.
    fastify.get('/demo/config.json', async () => config);
    await fastify.register(fastifyStatic, {
      root: [demoFolder(), signalrBrowserFolder()],
      prefix: '/demo',
      // Swagger UI registers @fastify/static too; only one of them may decorate the reply.
      decorateReply: false,
      redirect: true,
    });
  };
}
