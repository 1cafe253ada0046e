import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DASHBOARD_DIR = join(import.meta.dirname, '..', '..', 'deploy', 'grafana', 'dashboards');

/** Series Prometheus itself makes, which no service exposes. */
export const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

export interface DashboardQuery {
  file: string;
  panel: string;
  expr: string;
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARD_DIR).filter((name) => name.endsWith('.json')).map((name) => join(DASHBOARD_DIR, name));
}

/** Every PromQL expression of every panel (rows' nested panels included). */
export function dashboardQueries(file: string): DashboardQuery[] {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels?: Panel[] };
  const walk = (panels: Panel[]): DashboardQuery[] =>
    panels.flatMap((panel) => [
      ...(panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [{ file, panel: panel.title ?? '(untitled)', expr: target.expr }])),
      ...walk(panel.panels ?? []),
    ]);
  return walk(dashboard.panels ?? []);
}

/**
 * The metric names a PromQL expression reads. Strings, label matchers, ranges and grouping
 * clauses are removed first; what remains and is not a function call or keyword is a metric.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)) {
    const [, name, call] = match;
    if (name === undefined || call !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** The series names in a Prometheus text scrape, for checking a live /metrics against the dashboards. */
export function exposedSeries(scrape: string): Set<string> {
  const names = new Set<string>();
  for (const line of scrape.split('\n')) {
    const name = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(line)?.[0];
    if (name !== undefined) names.add(name);
  }
  return names;
}
