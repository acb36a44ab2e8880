// A server's trust of client certificates the Connect CA signed (auto_encrypt): the CA roots,
// followed from the replica, are handed to the TlsConfigurator for incoming internal RPC, as
// Consul's leader and followers call UpdateAutoTLSCA when the roots change.
import type { Replica } from '../state/index.ts';
import type { TlsConfigurator } from './tls-configurator.ts';

const WAIT_MS = 10 * 60_000;

/** Follows the CA roots until `signal` aborts; every change (and the first read) updates `tls`. */
export function followConnectRoots(replica: Pick<Replica, 'caRoots' | 'notifier'>, tls: Pick<TlsConfigurator, 'updateConnectCas'>, signal: AbortSignal): void {
  const step = (): void => {
    if (signal.aborted) return;
    const ws = replica.notifier.watchSet().addTable(replica.caRoots.name);
    tls.updateConnectCas(replica.caRoots.all().map((r) => String((r as { RootCert?: string }).RootCert ?? '')).filter(Boolean));
    ws.notify(WAIT_MS, signal, () => step());
  };
  step();
}
