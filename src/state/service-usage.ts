// Running service usage counts of the catalog (Consul's usage table for services): kept up to
// date as instances are applied, so /v1/operator/usage answers without scanning the catalog.
import type { NodeService } from '../api/catalog-types.ts';
import { CONNECT_USAGE_KINDS, type ServiceUsage } from '../api/operator-usage.ts';

/** Consul's own service, left out of the billable count. */
const CONSUL_SERVICE = 'consul';

/** Instance counts by mesh kind and billability; service names and nodes come from the tables' sizes. */
export class ServiceUsageCounts {
  instances = 0;
  billable = 0;
  readonly #byKind = new Map<string, number>();

  /** Counts an instance in (`sign` 1) or out (`sign` -1). */
  count(svc: NodeService, sign: 1 | -1): void {
    this.instances += sign;
    const kind = svc.Kind ?? '';
    if (kind !== '') this.#byKind.set(kind, (this.#byKind.get(kind) ?? 0) + sign);
    if ((svc.Connect as { Native?: boolean } | undefined)?.Native) {
      this.#byKind.set('connect-native', (this.#byKind.get('connect-native') ?? 0) + sign);
    }
    // Billable: typical instances (connect-native ones included), not Consul's own servers.
    if (kind === '' && svc.Service !== CONSUL_SERVICE) this.billable += sign;
  }

  /** Forgets every count (before a re-list). */
  reset(): void {
    this.instances = this.billable = 0;
    this.#byKind.clear();
  }

  /** The report for `services` distinct names on `nodes` nodes, every mesh kind listed. */
  report(services: number, nodes: number): ServiceUsage {
    const ConnectServiceInstances: Record<string, number> = {};
    for (const k of CONNECT_USAGE_KINDS) ConnectServiceInstances[k] = this.#byKind.get(k) ?? 0;
    return { Services: services, ServiceInstances: this.instances, ConnectServiceInstances, BillableServiceInstances: this.billable, Nodes: nodes };
  }
}
