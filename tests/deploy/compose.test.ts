import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

// Docker is not available where the tests run, so the compose file is checked statically.
const root = join(import.meta.dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
};

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  command?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }> | string[];
  environment?: Record<string, string>;
}

const services = Object.entries(compose.services);

describe('docker-compose.yml', () => {
  it('runs the whole stack: stores, two gateway replicas behind a load balancer, the api and the persister', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['redis', 'nats', 'postgres', 'gateway-1', 'gateway-2', 'session-api', 'persister', 'lb', 'prometheus', 'grafana']),
    );
  });

  it.each(services.filter(([, s]) => s.build))('builds %s from a context and Dockerfile that exist', (_name, service) => {
    const context = join(root, service.build!.context);
    expect(existsSync(context)).toBe(true);
    expect(existsSync(join(context, service.build!.dockerfile ?? 'Dockerfile'))).toBe(true);
  });

  it.each(services.filter(([, s]) => s.build?.args?.['SERVICE']))('starts %s from a main module that exists', (_name, service) => {
    const entry = join(root, 'services', service.build!.args!['SERVICE']!, 'src', 'main.ts');
    expect(existsSync(entry)).toBe(true);
  });

  it.each(services.filter(([, s]) => s.command?.some((part) => part.endsWith('.ts'))))('runs %s with a command whose script exists', (_name, service) => {
    const script = service.command!.find((part) => part.endsWith('.ts'))!;
    expect(existsSync(join(root, script))).toBe(true);
  });

  it.each(services.filter(([name]) => name !== 'migrate'))('gives %s a health check', (_name, service) => {
    expect(service.healthcheck?.test.length).toBeGreaterThan(0);
  });

  it.each(services.filter(([, s]) => s.volumes?.some((v) => v.startsWith('./'))))('mounts files for %s that exist', (_name, service) => {
    for (const volume of service.volumes!.filter((v) => v.startsWith('./'))) {
      expect(existsSync(join(root, volume.split(':')[0]!))).toBe(true);
    }
  });

  it('only depends on services it defines', () => {
    for (const [, service] of services) {
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(Object.keys(compose.services)).toContain(dep);
    }
  });

  it('passes WebSocket upgrades through the load balancer to both gateways', () => {
    const nginx = readFileSync(join(root, 'deploy', 'nginx', 'nginx.conf'), 'utf8');
    expect(nginx).toMatch(/proxy_set_header Upgrade \$http_upgrade/);
    expect(nginx).toMatch(/server gateway-1:8080/);
    expect(nginx).toMatch(/server gateway-2:8080/);
  });

  it('runs PostgreSQL with synchronous commits and JetStream with fsync on every write', () => {
    expect(compose.services['postgres']!.command).toEqual(expect.arrayContaining(['synchronous_commit=on']));
    const nats = readFileSync(join(root, 'deploy', 'nats', 'nats.conf'), 'utf8');
    expect(nats).toMatch(/sync_interval:\s*always/);
  });
});
