import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One Kubernetes object as rendered; only the fields the checks read are typed. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  labels?: { pairs: Record<string, string>; includeTemplates?: boolean; includeSelectors?: boolean }[];
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { path: string }[];
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume']);
const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'labels', 'images', 'patches']);

/**
 * The part of `kustomize build` these manifests use: resources (files and directories), labels
 * (with includeTemplates), namespace, images, and strategic-merge patches (maps merged, lists
 * of named items merged by name). Anything else in a kustomization.yaml is refused, so a field
 * this does not implement cannot be silently ignored.
 */
export function render(dir: string): Manifest[] {
  const kustomization = readYaml(join(dir, 'kustomization.yaml'))[0] as Kustomization & Record<string, unknown>;
  for (const field of Object.keys(kustomization)) if (!KNOWN_FIELDS.has(field)) throw new Error(`${dir}: kustomization field ${field} is not supported by this renderer`);
  let manifests: Manifest[] = [];
  for (const resource of kustomization.resources ?? []) {
    const path = join(dir, resource);
    manifests.push(...(statSync(path).isDirectory() ? render(path) : (readYaml(path) as Manifest[])));
  }
  for (const patch of kustomization.patches ?? []) {
    for (const change of readYaml(join(dir, patch.path)) as Manifest[]) {
      const target = manifests.find((m) => m.kind === change.kind && m.metadata.name === change.metadata.name);
      if (target === undefined) throw new Error(`${dir}/${patch.path}: no ${change.kind} ${change.metadata.name} to patch`);
      manifests = manifests.map((m) => (m === target ? (merge(m, change) as Manifest) : m));
    }
  }
  for (const { pairs, includeTemplates } of kustomization.labels ?? []) {
    for (const m of manifests) {
      m.metadata.labels = { ...m.metadata.labels, ...pairs };
      const template = (m['spec'] as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
      if (includeTemplates === true && template) template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...pairs } };
    }
  }
  for (const image of kustomization.images ?? []) {
    for (const m of manifests) {
      for (const container of containersOf(m)) {
        const [name] = container.image.split(':');
        if (name === image.name) container.image = `${image.newName ?? image.name}:${image.newTag ?? 'latest'}`;
      }
    }
  }
  if (kustomization.namespace !== undefined) for (const m of manifests) if (!CLUSTER_SCOPED.has(m.kind)) m.metadata.namespace = kustomization.namespace;
  return manifests;
}

export function containersOf(m: Manifest): { name: string; image: string; [field: string]: unknown }[] {
  const spec = (m['spec'] as { template?: { spec?: { containers?: { name: string; image: string }[] } } } | undefined)?.template?.spec;
  return spec?.containers ?? [];
}

function readYaml(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors[0]?.message ?? 'bad YAML'}`);
      return doc.toJS() as unknown;
    })
    .filter((doc) => doc !== null);
}

function merge(base: unknown, change: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(change) && [...base, ...change].every(isNamed)) {
    const merged = base.map((item: { name: string }) => {
      const over = change.find((candidate: { name: string }) => candidate.name === item.name);
      return over === undefined ? item : merge(item, over);
    });
    return [...merged, ...change.filter((item: { name: string }) => !base.some((existing: { name: string }) => existing.name === item.name))];
  }
  if (isMap(base) && isMap(change)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(change)) out[key] = key in base ? merge(base[key], value) : value;
    return out;
  }
  return change;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNamed(value: unknown): value is { name: string } {
  return isMap(value) && typeof value['name'] === 'string';
}


