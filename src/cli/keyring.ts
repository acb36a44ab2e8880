// `proconsul keyring`: lists, installs, switches and removes gossip encryption keys across
// the cluster through the agent, printing Consul's per-pool report.

import { OperatorKeyringApi, type KeyringResponse } from '../api/operator-keyring.ts';
import { withClient } from './client-command.ts';
import { HTTP_FLAGS } from './http-flags.ts';
import { parseCommandFlags, RUN_RESULT_HELP, type CliIO, type Command } from './io.ts';
import { failUi } from './catalog-flags.ts';

/** Consul's formatResponse: pool name, node messages, then `key [count/total]` lines. */
export function formatKeyringResponse(r: KeyringResponse, keys: Record<string, number>): string {
  let pool = r.WAN ? 'WAN' : `${r.Datacenter} (LAN)`;
  if (r.Partition) pool += ` [partition: ${r.Partition}]`;
  if (r.Segment) pool += ` [segment: ${r.Segment}]`;
  const lines = [`${pool}:`];
  for (const [from, msg] of Object.entries(r.Messages ?? {})) lines.push(`  ===> ${from}: ${msg}`);
  for (const [key, n] of Object.entries(keys ?? {})) lines.push(`  ${key} [${n}/${r.NumNodes}]`);
  return `\n${lines.join('\n')}`;
}

type Action = { kind: 'list' | 'list-primary' } | { kind: 'install' | 'use' | 'remove'; key: string };

function chooseAction(v: Record<string, unknown>): Action | 'none' | 'many' {
  const found: Action[] = [];
  if (v.list === true) found.push({ kind: 'list' });
  if (v['list-primary'] === true) found.push({ kind: 'list-primary' });
  for (const kind of ['install', 'use', 'remove'] as const) if (v[kind]) found.push({ kind, key: String(v[kind]) });
  return found.length === 0 ? 'none' : found.length > 1 ? 'many' : found[0];
}

const VERB = { install: 'Installing new gossip encryption key...', use: 'Changing primary gossip encryption key...', remove: 'Removing gossip encryption key...' };

/** The `keyring` command. */
export const keyringCommand: Command = {
  name: 'keyring',
  synopsis: 'Manages gossip layer encryption keys',
  flags: [
    { name: 'install', kind: 'string', usage: 'Install a new encryption key. This will broadcast the new key to all members in the cluster.' },
    { name: 'list', kind: 'bool', usage: 'List all keys currently in use within the cluster.' },
    { name: 'list-primary', kind: 'bool', usage: 'List all primary keys currently in use within the cluster.' },
    { name: 'local-only', kind: 'bool', usage: 'Setting this to true will force the keyring query to only hit local servers (no WAN traffic). This flag can only be set for list queries.' },
    { name: 'relay-factor', kind: 'int', usage: 'Setting this to a non-zero value will cause nodes to relay their response to the operation through this many randomly-chosen other nodes in the cluster. The maximum allowed value is 5.' },
    { name: 'remove', kind: 'string', usage: 'Remove the given key from the cluster. This operation may only be performed on keys which are not currently the primary key.' },
    { name: 'use', kind: 'string', usage: 'Change the primary encryption key, which is used to encrypt messages. The key must already be installed before this operation can succeed.' },
    ...HTTP_FLAGS,
  ],
  help: `
Usage: proconsul keyring [options]

  Manages encryption keys used for gossip messages. Gossip encryption is
  optional. When enabled, this command may be used to examine active encryption
  keys in the cluster, add new keys, and remove old ones. When combined, this
  functionality provides the ability to perform key rotation cluster-wide,
  without disrupting the cluster.

      $ proconsul keyring -list
      $ proconsul keyring -install="$(proconsul keygen)"
      $ proconsul keyring -use=<new key>
      $ proconsul keyring -remove=<old key>
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = failUi(io);
    const flags = parseCommandFlags(this.flags, args, io);
    if (!flags) return 1;
    const action = chooseAction(flags.values);
    if (action === 'many') return out.fail('Only a single action is allowed');
    if (action === 'none') return RUN_RESULT_HELP;
    const localOnly = flags.values['local-only'] === true;
    if (localOnly && action.kind !== 'list' && action.kind !== 'list-primary') return out.fail('local-only can only be set for list queries');
    const relayFactor = Number(flags.values['relay-factor'] ?? 0);
    if (relayFactor < 0 || relayFactor > 5) return out.fail('Error parsing relay factor: Relay factor must be in range: [0, 5]');
    return withClient(flags, io, async (client) => {
      const api = new OperatorKeyringApi(client);
      if (action.kind === 'list' || action.kind === 'list-primary') {
        out.info(action.kind === 'list' ? 'Gathering installed encryption keys...' : 'Gathering installed primary encryption keys...');
        for (const r of await api.list({ localOnly, relayFactor: relayFactor || undefined })) {
          out.info(formatKeyringResponse(r, action.kind === 'list' ? r.Keys : r.PrimaryKeys));
        }
        return 0;
      }
      if (!('key' in action)) return 1;
      out.info(VERB[action.kind]);
      await api[action.kind](action.key);
      return 0;
    }, 'error');
  },
};
