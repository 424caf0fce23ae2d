import { createRequire } from 'node:module';
import type * as Instrumentation from '@opentelemetry/instrumentation';
import type * as HttpInstrumentationModule from '@opentelemetry/instrumentation-http';
import type * as UndiciInstrumentationModule from '@opentelemetry/instrumentation-undici';
import type * as OtlpHttp from '@opentelemetry/exporter-trace-otlp-http';
import type * as Resources from '@opentelemetry/resources';
import type * as TraceNode from '@opentelemetry/sdk-trace-node';
import { markTracingEnabled } from './tracing.js';

type Env = Record<string, string | undefined>;

/** Paths whose requests make no span: probes and scrapes, polled every few seconds, would drown the traces. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Whether tracing is on, by OpenTelemetry's variables: off unless an OTLP endpoint is set or OTEL_TRACES_EXPORTER
 * names an exporter (`otlp`, or `console` to print spans); `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`
 * turn it off whatever else is set.
 */
export function tracingExporters(env: Env): ('otlp' | 'console')[] {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return [];
  const named = (env['OTEL_TRACES_EXPORTER'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (named.includes('none')) return [];
  if (named.length === 0) return env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] ? ['otlp'] : [];
  return named.filter((name): name is 'otlp' | 'console' => name === 'otlp' || name === 'console');
}

/**
 * Registers the tracer provider (W3C trace context, batch export over OTLP/HTTP JSON to OTEL_EXPORTER_OTLP_ENDPOINT,
 * resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, sampler from OTEL_TRACES_SAMPLER) and the HTTP (incoming
 * requests) and undici (upstream calls, JWKS fetches) instrumentations. The packages are loaded synchronously, and only
 * here: an ES module's imports would be hoisted and loaded even with tracing off, and an `await import` would let the
 * modules after this one in main.ts load before the instrumentations are in place.
 */
export function startTracing(env: Env): boolean {
  const exporters = tracingExporters(env);
  if (exporters.length === 0) return false;
  const require = createRequire(import.meta.url);
  const { NodeTracerProvider, BatchSpanProcessor, ConsoleSpanExporter } = require('@opentelemetry/sdk-trace-node') as typeof TraceNode;
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof OtlpHttp;
  const { defaultResource, detectResources, envDetector, resourceFromAttributes } = require('@opentelemetry/resources') as typeof Resources;
  const { registerInstrumentations } = require('@opentelemetry/instrumentation') as typeof Instrumentation;
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof HttpInstrumentationModule;
  const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof UndiciInstrumentationModule;

  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'signalr-gateway' }))
    .merge(detectResources({ detectors: [envDetector] }));
  const spanProcessors = exporters.map((name) => new BatchSpanProcessor(name === 'otlp' ? new OTLPTraceExporter() : new ConsoleSpanExporter()));
  const provider = new NodeTracerProvider({ resource, spanProcessors });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Incoming requests only (the gateway's own outgoing calls use undici); no headers are recorded.
        disableOutgoingRequestInstrumentation: true,
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]),
      }),
      new UndiciInstrumentation(),
    ],
  });
  markTracingEnabled(() => provider.shutdown());
  return true;
}
