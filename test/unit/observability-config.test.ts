import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObservabilityConfig } from '../../src/config/observability.config.js';
import { ConfigError } from '../../src/config/validate-env.js';
import { LabelCap, OTHER } from '../../src/observability/metrics.js';
import { tracingExporters } from '../../src/observability/tracing-sdk.js';

describe('observability settings', () => {
  it('METRICS_PORT: 9464 by default, 0 turns it off, anything else but a port is refused without echoing it', () => {
    assert.equal(ObservabilityConfig.fromEnv({}, false).metricsPort, 9464);
    assert.equal(ObservabilityConfig.fromEnv({ METRICS_PORT: '0' }, false).metricsPort, 0);
    assert.throws(
      () => ObservabilityConfig.fromEnv({ METRICS_PORT: '70000' }, false),
      (error: Error) => error instanceof ConfigError && /METRICS_PORT/.test(error.message) && !error.message.includes('70000'),
    );
  });

  it('AUDIT_LOG: stdout in production, off elsewhere, as given otherwise', () => {
    assert.equal(ObservabilityConfig.fromEnv({}, true).auditLog, 'stdout');
    assert.equal(ObservabilityConfig.fromEnv({}, false).auditLog, 'off');
    assert.equal(ObservabilityConfig.fromEnv({ AUDIT_LOG: '/var/log/audit.jsonl' }, false).auditLog, '/var/log/audit.jsonl');
  });

  it('tracing: off unless an OTLP endpoint or exporter is named; OTEL_SDK_DISABLED and none win', () => {
    assert.deepEqual(tracingExporters({}), []);
    assert.deepEqual(tracingExporters({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), ['otlp']);
    assert.deepEqual(tracingExporters({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), ['otlp']);
    assert.deepEqual(tracingExporters({ OTEL_TRACES_EXPORTER: 'console' }), ['console']);
    assert.deepEqual(tracingExporters({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), []);
    assert.deepEqual(tracingExporters({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }), []);
  });

  it('caps a label at its first distinct values; later ones are "other"', () => {
    const cap = new LabelCap(2);
    assert.deepEqual(
      ['a', 'b', 'c', 'a', undefined].map((value) => cap.of(value)),
      ['a', 'b', OTHER, 'a', 'none'],
    );
  });
});
