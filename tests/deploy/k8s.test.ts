import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { containersOf, render, type Manifest } from './kustomize-render.ts';

// Schemas: kubernetes-models 5.1.0 (pinned), validators generated from the Kubernetes OpenAPI
// definitions for each kind. Its module path is the group/version/Kind of each object.
const root = join(import.meta.dirname, '..', '..');
const base = render(join(root, 'deploy', 'k8s', 'base'));
const production = render(join(root, 'deploy', 'k8s', 'overlays', 'production'));

async function validate(m: Manifest): Promise<void> {
  const groupVersion = m.apiVersion.includes('/') ? m.apiVersion : `v1`;
  const module = (await import(`kubernetes-models/${groupVersion}/${m.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[m.kind];
  if (Model === undefined) throw new Error(`no model for ${m.apiVersion} ${m.kind}`);
  new Model(m).validate();
}

const find = (manifests: Manifest[], kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name}`);
  return found;
};

type Spec = Record<string, unknown> & { template: { metadata: { labels: Record<string, string> }; spec: { terminationGracePeriodSeconds: number; containers: Record<string, unknown>[] } }; selector: { matchLabels: Record<string, string> } };
const spec = (m: Manifest) => m['spec'] as Spec;

describe.each([
  ['base', base],
  ['production overlay', production],
])('deploy/k8s %s', (_name, manifests) => {
  it('renders only objects that validate against the Kubernetes schemas', async () => {
    expect(manifests.length).toBeGreaterThan(10);
    for (const m of manifests) await expect(validate(m)).resolves.toBeUndefined();
  });

  it.each(['gateway', 'session-api', 'persister'])('runs %s with probes, a drain that fits the grace period, requests, a PDB and a Service', (name) => {
    const deployment = find(manifests, 'Deployment', name);
    const pod = spec(deployment).template;
    const [container] = pod.spec.containers as { readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } }; lifecycle: { preStop: { sleep: { seconds: number } } }; resources: { requests: { cpu: string; memory: string } }; env: { name: string; valueFrom?: { secretKeyRef?: { name: string } } }[] }[];
    expect(container?.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container?.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container?.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    // The JWT key comes from the Secret, never from the ConfigMap.
    expect(container?.env.find((entry) => entry.name === 'JWT_SECRET')?.valueFrom?.secretKeyRef?.name).toBe('chat-jwt');
    const config = find(manifests, 'ConfigMap', 'chat-config')['data'] as Record<string, string>;
    expect(config['JWT_SECRET']).toBeUndefined();
    const drainSeconds = (container?.lifecycle.preStop.sleep.seconds ?? 0) + Number(config['SHUTDOWN_GRACE_MS']) / 1000;
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds);

    const selector = spec(deployment).selector.matchLabels;
    for (const [key, value] of Object.entries(selector)) expect(pod.metadata.labels[key]).toBe(value);
    expect((find(manifests, 'PodDisruptionBudget', name)['spec'] as { selector: { matchLabels: unknown } }).selector.matchLabels).toEqual(selector);
    expect((find(manifests, 'Service', name)['spec'] as { selector: unknown }).selector).toEqual(selector);
    find(manifests, 'Secret', 'chat-jwt');
  });

  it('hands the gateway\'s clients over on a lost Redis or NATS only after readiness has taken the pod out of the Service', () => {
    type Probe = { periodSeconds?: number; failureThreshold?: number; timeoutSeconds?: number };
    const [container] = spec(find(manifests, 'Deployment', 'gateway')).template.spec.containers as { readinessProbe: Probe; env: { name: string; value?: string }[] }[];
    const handoverMs = Number(container?.env.find((entry) => entry.name === 'DEPENDENCY_LOSS_HANDOVER_MS')?.value);
    const probe = container?.readinessProbe ?? {};
    // Kubernetes' defaults where the probe leaves them out: 10 s period, 3 failures, 1 s timeout.
    const notReadyWithinMs = ((probe.periodSeconds ?? 10) * (probe.failureThreshold ?? 3) + (probe.timeoutSeconds ?? 1)) * 1000;
    expect(Number.isInteger(handoverMs)).toBe(true);
    expect(handoverMs).toBeGreaterThan(notReadyWithinMs);
    // Set on the gateway alone: no other service reads it.
    const config = find(manifests, 'ConfigMap', 'chat-config')['data'] as Record<string, string>;
    expect(config['DEPENDENCY_LOSS_HANDOVER_MS']).toBeUndefined();
  });

  it('scales the gateway on connections per pod and the persister on consumer pending', () => {
    const gateway = find(manifests, 'HorizontalPodAutoscaler', 'gateway')['spec'] as { metrics: { type: string; pods?: { metric: { name: string } } }[] };
    expect(gateway.metrics).toEqual([expect.objectContaining({ type: 'Pods', pods: expect.objectContaining({ metric: { name: 'chat_connections_open' } }) })]);
    const persister = find(manifests, 'HorizontalPodAutoscaler', 'persister')['spec'] as { metrics: { type: string; external?: { metric: { name: string } } }[] };
    expect(persister.metrics[0]?.external?.metric.name).toBe('nats_consumer_num_pending');
  });

  it('lets only the gateway in from outside, and the monitoring namespace to every port with /metrics', () => {
    const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
    const deny = policies.find((m) => m.metadata.name === 'default-deny-ingress')?.['spec'] as { podSelector: unknown; ingress?: unknown };
    expect(deny).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    type Rule = { from: { namespaceSelector?: { matchLabels: Record<string, string> }; podSelector?: unknown }[] };
    const fromOtherNamespaces = policies.flatMap((m) => {
      const { podSelector, ingress = [] } = m['spec'] as { podSelector: { matchLabels?: Record<string, string> }; ingress?: Rule[] };
      return ingress.flatMap((rule) => rule.from.filter((peer) => peer.namespaceSelector).map((peer) => ({ pods: podSelector.matchLabels, from: peer.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'] })));
    });
    expect(fromOtherNamespaces).toEqual(
      expect.arrayContaining([
        { pods: { 'app.kubernetes.io/name': 'gateway' }, from: 'ingress-nginx' },
        { pods: { 'app.kubernetes.io/part-of': 'chat' }, from: 'monitoring' },
      ]),
    );
    expect(fromOtherNamespaces).toHaveLength(2);
    // Every chat pod carries the label the monitoring policy selects.
    for (const m of manifests.filter((each) => each.kind === 'Deployment')) expect(spec(m).template.metadata.labels['app.kubernetes.io/part-of']).toBe('chat');
    const ingress = find(manifests, 'Ingress', 'gateway')['spec'] as { rules: { http: { paths: { path: string }[] } }[] };
    expect(ingress.rules.flatMap((rule) => rule.http.paths.map((path) => path.path))).toEqual(['/ws/']);
  });
});

describe('the production overlay', () => {
  it('runs on Redis Cluster and NATS at R3 from their charts, in its namespace, with its image and a larger gateway', () => {
    const config = find(production, 'ConfigMap', 'chat-config')['data'] as Record<string, string>;
    expect(config).toMatchObject({ REDIS_MODE: 'cluster', NATS_STREAM_REPLICAS: '3', CHAT_BACKEND: 'services' });
    expect(production.every((m) => m.metadata.namespace === 'chat')).toBe(true);
    for (const m of production) for (const container of containersOf(m)) expect(container.image).toBe('registry.example.com/chat-platform:1.0.0');
    const gateway = spec(find(production, 'Deployment', 'gateway'));
    expect(gateway['replicas']).toBe(3);
    // The patch changed the gateway's requests and kept the rest of its container.
    expect(gateway.template.spec.containers[0]).toMatchObject({ resources: { requests: { cpu: '1' } }, readinessProbe: { httpGet: { path: '/readyz' } } });
    expect(spec(find(production, 'Deployment', 'persister')).template.spec.containers[0]).toMatchObject({ resources: { requests: { cpu: '250m' } } });
  });

  it('is refused by the schemas when a field is wrong, so the validation has teeth', async () => {
    const broken = structuredClone(find(production, 'Deployment', 'gateway'));
    (spec(broken).template.spec.containers[0] as { ports: unknown[] }).ports = [{ containerPort: 'eighty' }];
    await expect(validate(broken)).rejects.toThrow();
  });
});
