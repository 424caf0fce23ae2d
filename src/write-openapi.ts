import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { createGateway } from './app.js';
import { loadConfig } from './config/load-config.js';
import { buildOpenApiDocument, serialiseOpenApi } from './openapi/openapi.js';

/**
 * `npm run openapi`: writes openapi/openapi.json from the routes' decorators. The gateway is built but never
 * listens nor calls anything, so placeholder settings are enough; they do not appear in the document.
 */
const PLACEHOLDER_ENV = {
  NODE_ENV: 'test',
  SIGNALR_CONNECTION_STRING: 'Endpoint=https://placeholder.service.signalr.net;AccessKey=placeholder;Version=1.0;',
  SSO_ISSUER: 'https://sso.example.com',
  SSO_AUDIENCE: 'signalr-gateway',
};

const app = await createGateway(loadConfig(PLACEHOLDER_ENV), pino({ level: 'silent' }));
const target = new URL('../openapi/openapi.json', import.meta.url);
mkdirSync(new URL('.', target), { recursive: true });
writeFileSync(target, serialiseOpenApi(buildOpenApiDocument(app)));
await app.close();
console.log(`wrote ${target.pathname}`);
