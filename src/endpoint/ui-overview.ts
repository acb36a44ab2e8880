// The catalog overview the UI's dashboard shows (Consul's overview manager, getCatalogOverview):
// node health from node checks, service health per instance from its service checks, and totals
// per check name. An instance or node counts by its worst check; with none it is passing.
import type { CatalogTables } from '../state/index.ts';
import type { HealthCheck } from '../api/catalog-types.ts';

/** Consul's HealthSummary (CE: no namespace or partition fields). */
export interface HealthSummary {
  Name?: string;
  Total: number;
  Passing: number;
  Warning: number;
  Critical: number;
}

/** Consul's CatalogSummary; an empty list is null, as Go's nil slice. */
export interface CatalogSummary {
  Nodes: HealthSummary[] | null;
  Services: HealthSummary[] | null;
  Checks: HealthSummary[] | null;
}

function add(s: HealthSummary, status: string): void {
  s.Total++;
  if (status === 'passing') s.Passing++;
  else if (status === 'warning') s.Warning++;
  else if (status === 'critical') s.Critical++;
}

/** The worst status among checks: critical, then warning, else passing. */
function aggregate(checks: HealthCheck[] | undefined): string {
  let status = 'passing';
  for (const c of checks ?? []) {
    if (c.Status === 'critical') return 'critical';
    if (c.Status === 'warning') status = 'warning';
  }
  return status;
}

const summary = (name?: string): HealthSummary => ({ ...(name === undefined ? {} : { Name: name }), Total: 0, Passing: 0, Warning: 0, Critical: 0 });
const byName = (a: HealthSummary, b: HealthSummary): number => ((a.Name ?? '') < (b.Name ?? '') ? -1 : (a.Name ?? '') > (b.Name ?? '') ? 1 : 0);
const list = (m: Map<string, HealthSummary>): HealthSummary[] | null => (m.size ? [...m.values()].sort(byName) : null);

/** The overview of the catalog as it is now. */
export function catalogOverview(cat: CatalogTables): CatalogSummary {
  const checks = new Map<string, HealthSummary>();
  const nodeChecks = new Map<string, HealthCheck[]>();
  const instanceChecks = new Map<string, HealthCheck[]>();
  for (const [node, byId] of cat.checks) {
    for (const c of byId.values()) {
      let s = checks.get(c.Name);
      if (!s) checks.set(c.Name, (s = summary(c.Name)));
      add(s, c.Status);
      const key = c.ServiceID ? `${node}\0${c.ServiceID.toLowerCase()}` : node;
      const into = c.ServiceID ? instanceChecks : nodeChecks;
      const list = into.get(key);
      if (list) list.push(c);
      else into.set(key, [c]);
    }
  }
  const services = new Map<string, HealthSummary>();
  for (const [node, byId] of cat.services) {
    for (const svc of byId.values()) {
      let s = services.get(svc.Service);
      if (!s) services.set(svc.Service, (s = summary(svc.Service)));
      add(s, aggregate(instanceChecks.get(`${node}\0${svc.ID.toLowerCase()}`)));
    }
  }
  const nodes = new Map<string, HealthSummary>();
  for (const node of cat.nodes.keys()) {
    let s = nodes.get('');
    if (!s) nodes.set('', (s = summary()));
    add(s, aggregate(nodeChecks.get(node)));
  }
  return { Nodes: list(nodes), Services: list(services), Checks: list(checks) };
}
