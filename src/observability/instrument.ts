/**
 * The process's first import (main.ts imports it before anything else): starts OpenTelemetry tracing when the
 * standard `OTEL_*` variables ask for it, before Fastify and undici are loaded, so the HTTP and undici
 * instrumentations see every request. When they do not, it loads nothing and costs nothing.
 */
import { startTracing } from './tracing-sdk.js';

startTracing(process.env);
