// The agent's store by backend (store.backend): memory, the embedded one (loaded only when
// chosen), an external etcd cluster, or the etcd cluster the servers manage themselves.
import type { RequestListener, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { MemoryStore, lazyEtcdStore, type HoldOptions, type Store } from '../store/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { buildManagedStore } from './managed-etcd.ts';
import type { TlsConfigurator } from './tls-configurator.ts';

const require = createRequire(import.meta.url);

/** How etcd store requests wait out an election: performance.rpc_hold_timeout on the agent's clock. */
function storeHold(config: RuntimeConfig, clock: Clock): HoldOptions {
  return { clock, holdMs: config.rpcHoldTimeout ?? 7_000 };
}

export function buildStore(
  config: RuntimeConfig, clock: Clock, logger: Logger, rpcRequests: RequestListener, acceptConnection: (sock: Socket, server: Server) => void,
  tls: TlsConfigurator,
): Store {
  if (config.store.backend === 'memory') return new MemoryStore({ clock });
  if (config.store.backend === 'embedded') {
    if (!config.dataDir) throw new Error('data_dir cannot be empty');
    // Loaded only for this backend (its writer protocol with it), synchronously as createAgent is (issue #9).
    const { EmbeddedStore } = require('../store/embedded/embedded.ts') as typeof import('../store/embedded/embedded.ts');
    return new EmbeddedStore({ dir: path.join(config.dataDir, 'store'), clock, logger: logger.child({ '@module': 'store' }) });
  }
  if (config.store.backend === 'etcd' && config.store.etcd) {
    // One namespace per datacenter. The etcd cluster should still serve one datacenter only:
    // foreign writes raise currentRevision() past anything this namespace's watch delivers.
    return lazyEtcdStore({
      endpoints: config.store.etcd.endpoints, prefix: `/proconsul/${config.datacenter}/`, logger: logger.child({ '@module': 'store' }),
      hold: storeHold(config, clock),
    });
  }
  if (config.store.backend === 'managed') {
    return buildManagedStore(config, logger.child({ '@module': 'store' }), {
      otherRequests: rpcRequests, acceptConnection, tls: () => tls.managedTls(), hold: storeHold(config, clock),
    });
  }
  throw new Error(`store backend ${config.store.backend} is not available yet`);
}
