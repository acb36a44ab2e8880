// Cluster-wide keyring operations (Serf's key manager): ask every live member to list,
// install, use or remove a key over a stream and collect a per-node report, the data behind
// `proconsul keyring` and /v1/operator/keyring.
import type { KeyList, Keyring } from './keyring.ts';
import type { Member } from './member.ts';
import type { KeyOpMsg, KeyRespMsg, StreamMsg } from './messages.ts';

/** A keyring operation name. */
export type KeyOp = KeyOpMsg['op'];

/** The outcome of one cluster-wide keyring operation. */
export interface KeyringReport {
  numNodes: number;
  numResp: number;
  numErr: number;
  /** Error text per node that failed. */
  messages: Record<string, string>;
  /** How many nodes hold each key. */
  keys: Record<string, number>;
  /** How many nodes use each key as primary. */
  primaryKeys: Record<string, number>;
  /** Each answering node's keys. */
  nodes: Record<string, KeyList>;
}

/** Applies one keyring operation on this node and describes the result. */
export function applyKeyOp(keyring: Keyring | undefined, msg: KeyOpMsg, node: string): KeyRespMsg {
  if (!keyring) return { t: 'keyresp', node, ok: false, error: 'Gossip encryption is not enabled', keys: [], primary: '' };
  try {
    if (msg.op !== 'list') {
      if (!msg.key) throw new Error('Key must be provided');
      keyring[msg.op](msg.key);
    }
    return { t: 'keyresp', node, ok: true, ...keyring.list() };
  } catch (err) {
    return { t: 'keyresp', node, ok: false, error: (err as Error).message, ...keyring.list() };
  }
}

/** Runs `op` on every target (ourselves locally) and aggregates the answers. */
export async function clusterKeyOp(
  targets: Member[],
  local: { name: string; apply: (msg: KeyOpMsg) => KeyRespMsg },
  request: (m: Member, msg: KeyOpMsg) => Promise<StreamMsg>,
  msg: KeyOpMsg,
): Promise<KeyringReport> {
  const report: KeyringReport = { numNodes: targets.length, numResp: 0, numErr: 0, messages: {}, keys: {}, primaryKeys: {}, nodes: {} };
  // Ourselves last, so a `use` reaches peers while they can still read our old primary.
  const ordered = [...targets.filter((t) => t.name !== local.name), ...targets.filter((t) => t.name === local.name)];
  for (const m of ordered) {
    let resp: KeyRespMsg;
    try {
      const r = m.name === local.name ? local.apply(msg) : await request(m, msg);
      if (r.t !== 'keyresp') throw new Error(`unexpected ${r.t} answer`);
      resp = r;
    } catch (err) {
      resp = { t: 'keyresp', node: m.name, ok: false, error: (err as Error).message, keys: [], primary: '' };
    }
    record(report, m.name, resp);
  }
  return report;
}

function record(report: KeyringReport, node: string, resp: KeyRespMsg): void {
  if (resp.keys.length > 0 || resp.ok) report.numResp++;
  if (!resp.ok) {
    report.numErr++;
    report.messages[node] = resp.error ?? 'unknown error';
  }
  if (resp.keys.length === 0) return;
  report.nodes[node] = { keys: resp.keys, primary: resp.primary };
  for (const k of resp.keys) report.keys[k] = (report.keys[k] ?? 0) + 1;
  report.primaryKeys[resp.primary] = (report.primaryKeys[resp.primary] ?? 0) + 1;
}
