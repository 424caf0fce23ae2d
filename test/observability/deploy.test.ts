import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { pino } from 'pino';
import { createGateway } from '../../src/app.js';
import { loadConfig } from '../../src/config/load-config.js';
import { ObservabilityConfig } from '../../src/config/observability.config.js';
import { ServerConfig } from '../../src/config/server.config.js';
import type { Env } from '../../src/config/validate-env.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { serveMetrics, type MetricsListener } from '../../src/observability/metrics-server.js';
import { repositoryRoot } from '../fixtures/repository.js';
import { startTestIssuer, type TestIssuer } from '../fixtures/sso.js';
import { startUpstreamStandIn, type UpstreamStandIn } from '../fixtures/upstream-stand-in.js';

/**
 * deploy/ must not rot: every manifest parses, and its ports, probe paths, variable names and metric names are the
 * ones the code serves and reads. The manifests are JSON documents after leading `#` comment lines (JSON is YAML),
 * so no YAML library is needed to read them.
 */
const DEPLOY = join(repositoryRoot(), 'deploy');

type Json = Record<string, any>;

function readManifest(path: string): Json {
  const text = readFileSync(path, 'utf8');
  const body = text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
  return JSON.parse(body) as Json;
}

const kubernetes = readdirSync(join(DEPLOY, 'kubernetes'))
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => readManifest(join(DEPLOY, 'kubernetes', name)));
const ofKind = (kind: string): Json => {
  const found = kubernetes.filter((manifest) => manifest['kind'] === kind);
  assert.equal(found.length, 1, `one ${kind} in deploy/kubernetes`);
  return found[0];
};

/** Every variable the README's configuration table names (`PORT` / `HOST` rows name two). */
function documentedVariables(): Set<string> {
  const readme = readFileSync(join(repositoryRoot(), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
  const names = new Set<string>();
  for (const line of section.split('\n').filter((row) => row.startsWith('| `'))) {
    const firstCell = line.split('|')[1];
    for (const [, name] of firstCell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(name);
  }
  return names;
}

/** The metric names an expression refers to, without a histogram's `_bucket`, `_sum` and `_count` suffixes. */
function metricsIn(expression: string): string[] {
  return [...expression.matchAll(/\b((?:signalr_gateway|process|nodejs)_[a-z0-9_]+)\b/g)].map(([, name]) => name.replace(/_(bucket|sum|count)$/, ''));
}

describe('deploy/: the manifests match what the code serves', () => {
  const configMap = ofKind('ConfigMap');
  const secret = ofKind('Secret');
  const deployment = ofKind('Deployment');
  const container = deployment['spec']['template']['spec']['containers'][0] as Json;
  const env: Env = { ...(configMap['data'] as Env), ...(secret['stringData'] as Env) };

  let sso: TestIssuer;
  let upstream: UpstreamStandIn;
  let app: NestFastifyApplication;
  let gatewayUrl: string;
  let metrics: MetricsListener;

  before(async () => {
    [sso, upstream] = await Promise.all([startTestIssuer(), startUpstreamStandIn()]);
    app = await createGateway(loadConfig({ NODE_ENV: 'test', SIGNALR_CONNECTION_STRING: upstream.connectionString, ...sso.env }), pino({ level: 'silent' }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    gatewayUrl = await app.getUrl();
    metrics = await serveMetrics(app.get(GatewayMetrics).registry, '127.0.0.1', 0);
  });

  after(async () => {
    await metrics.close();
    await app.close();
    await Promise.all([sso.close(), upstream.close()]);
  });

  it('has every piece: Deployment, Service, ServiceMonitor, PodDisruptionBudget, HorizontalPodAutoscaler, ConfigMap, Secret', () => {
    for (const kind of ['Deployment', 'Service', 'ServiceMonitor', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ConfigMap', 'Secret']) ofKind(kind);
    assert.equal(ofKind('HorizontalPodAutoscaler')['spec']['scaleTargetRef']['name'], deployment['metadata']['name']);
  });

  it('names only documented variables, and the gateway accepts their values', () => {
    const documented = documentedVariables();
    const named = [
      ...Object.keys(configMap['data'] as object),
      ...Object.keys(secret['stringData'] as object),
      ...(container['env'] as Json[]).map((variable) => variable['name'] as string),
    ];
    assert.deepEqual(
      named.filter((name) => !documented.has(name)),
      [],
      'every variable is in the README configuration table',
    );
    // The environment validates exactly as at boot.
    loadConfig(env);
    const secretRef = (container['env'] as Json[]).find((variable) => variable['name'] === 'SIGNALR_CONNECTION_STRING')!['valueFrom']['secretKeyRef'] as Json;
    assert.equal(secretRef['name'], secret['metadata']['name']);
    assert.ok(Object.keys(secret['stringData'] as object).includes(secretRef['key'] as string));
    assert.equal(container['envFrom'][0]['configMapRef']['name'], configMap['metadata']['name']);
  });

  it('exposes the ports the configuration sets, and the Service and ServiceMonitor point at them', () => {
    const ports = new Map((container['ports'] as Json[]).map((port) => [port['name'] as string, port['containerPort'] as number]));
    assert.equal(ports.get('http'), ServerConfig.fromEnv(env).port);
    assert.equal(ports.get('metrics'), ObservabilityConfig.fromEnv(env, false).metricsPort);
    const service = ofKind('Service');
    for (const port of service['spec']['ports'] as Json[])
      assert.ok(ports.has(port['targetPort'] as string), `Service targets container port ${port['targetPort']}`);
    const monitor = ofKind('ServiceMonitor');
    const servicePorts = (service['spec']['ports'] as Json[]).map((port) => port['name']);
    for (const endpoint of monitor['spec']['endpoints'] as Json[]) {
      assert.ok(servicePorts.includes(endpoint['port']));
      assert.equal(endpoint['path'], '/metrics');
    }
    assert.deepEqual(monitor['spec']['selector']['matchLabels'], service['metadata']['labels']);
  });

  it('probes paths the gateway answers, and serves /metrics where the ServiceMonitor scrapes', async () => {
    const liveness = container['livenessProbe']['httpGet'] as Json;
    const readiness = container['readinessProbe']['httpGet'] as Json;
    assert.deepEqual([liveness['path'], liveness['port']], ['/healthz', 'http']);
    assert.deepEqual([readiness['path'], readiness['port']], ['/readyz', 'http']);
    assert.equal((await fetch(`${gatewayUrl}${liveness['path']}`)).status, 200);
    // Ready once the SSO keys are loaded and the upstream answered: asked a bounded number of times.
    let ready = 0;
    for (let attempt = 0; attempt < 100 && ready !== 200; attempt++) {
      ready = (await fetch(`${gatewayUrl}${readiness['path']}`)).status;
      if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(ready, 200);
    const path = ofKind('ServiceMonitor')['spec']['endpoints'][0]['path'] as string;
    assert.equal((await fetch(`http://127.0.0.1:${metrics.port}${path}`)).status, 200);
  });

  it('gives the shutdown its whole drain and deadline, and runs non-root on a read-only filesystem with resources', () => {
    const { drainDelayMs, timeoutMs } = ServerConfig.fromEnv(env).shutdown;
    const grace = deployment['spec']['template']['spec']['terminationGracePeriodSeconds'] as number;
    assert.ok(grace * 1000 >= drainDelayMs + timeoutMs, `terminationGracePeriodSeconds ${grace} covers ${drainDelayMs} + ${timeoutMs} ms`);
    assert.equal(container['securityContext']['readOnlyRootFilesystem'], true);
    assert.equal(container['securityContext']['allowPrivilegeEscalation'], false);
    assert.equal(deployment['spec']['template']['spec']['securityContext']['runAsNonRoot'], true);
    assert.ok(container['resources']['requests']['cpu'] && container['resources']['limits']['memory']);
  });

  it('refers only to metrics the gateway registers, in the alert rules and the dashboard', async () => {
    const registered = new Set((await app.get(GatewayMetrics).registry.getMetricsAsJSON()).map((metric) => metric.name));
    const rules = readManifest(join(DEPLOY, 'prometheus', 'alerts.yaml'));
    const alertExpressions = (rules['groups'] as Json[]).flatMap((group) => (group['rules'] as Json[]).map((rule) => rule['expr'] as string));
    const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana', 'signalr-gateway.json'), 'utf8')) as Json;
    const panelExpressions = (dashboard['panels'] as Json[]).flatMap((panel) => (panel['targets'] as Json[]).map((target) => target['expr'] as string));
    const variableQueries = (dashboard['templating']['list'] as Json[]).map((variable) => String(variable['query']));
    const used = [...alertExpressions, ...panelExpressions, ...variableQueries].flatMap(metricsIn);
    assert.ok(used.length > 20);
    assert.deepEqual([...new Set(used.filter((name) => !registered.has(name)))], [], 'every metric exists in the registry');
    const alerts = (rules['groups'] as Json[]).flatMap((group) => (group['rules'] as Json[]).map((rule) => rule['alert'] as string));
    assert.equal(alerts.length, 6);
  });
});
