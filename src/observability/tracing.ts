import { context, isSpanContextValid, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';

/**
 * The gateway's own use of OpenTelemetry: the API only (a no-op until instrument.ts registers the SDK), so nothing
 * here exports anything. Attributes name the operation, the hub and statuses; never a message, a token or a header.
 */
const tracer = trace.getTracer('signalr-gateway');

let enabled = false;

/** Called by instrument.ts once the SDK is registered; until then the helpers below do nothing at all. */
export function markTracingEnabled(shutdown: () => Promise<void>): void {
  enabled = true;
  shutdownTracing = shutdown;
}

/** Exports the spans still buffered and stops the SDK (after the HTTP server has closed); a no-op when tracing is off. */
export let shutdownTracing: () => Promise<void> = () => Promise.resolve();

/** The current trace id (32 hex digits), when tracing is on and a span is active. */
export function currentTraceId(): string | undefined {
  if (!enabled) return undefined;
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * Names the active span (the incoming request's server span) and adds attributes to it, as `describe` says; with
 * tracing off, `describe` is never called (it runs for every request).
 */
export function annotateActiveSpan(describe: () => { name: string; attributes: Attributes }): void {
  if (!enabled) return;
  const span = trace.getActiveSpan();
  if (span === undefined) return;
  const { name, attributes } = describe();
  span.updateName(name);
  span.setAttributes(attributes);
}

/** What `inSpan`'s function can say about its outcome. */
export interface SpanNotes {
  setAttributes(attributes: Attributes): void;
}

const NO_NOTES: SpanNotes = { setAttributes: () => undefined };

/**
 * Runs `fn` in a child span of the active one: the upstream call, around its attempts (each attempt's HTTP client span,
 * made by the undici instrumentation, is a child of it and carries its `traceparent` upstream). An error thrown ends
 * the span with status ERROR and the error's name, not its message.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (notes: SpanNotes) => Promise<T>): Promise<T> {
  // Not an async function: with tracing off, the call's own promise is all there is (no wrapper and its extra ticks).
  return enabled ? inNewSpan(name, attributes, fn) : fn(NO_NOTES);
}

async function inNewSpan<T>(name: string, attributes: Attributes, fn: (notes: SpanNotes) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, { attributes }, context.active());
  try {
    return await context.with(trace.setSpan(context.active(), span), () => fn(span));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
    throw error;
  } finally {
    span.end();
  }
}
