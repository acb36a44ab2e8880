// `proconsul peering read`: one peering as Consul's text block or JSON (command/peering/read).

import { runWithClient } from './client-command.ts';
import { HTTP_FLAGS, PARTITION_FLAGS } from './http-flags.ts';
import { ui, type CliIO, type Command } from './io.ts';
import { goTimeString } from './debug-capture.ts';
import { nameAndFormat, readNamedPeering, PEERING_FORMAT_FLAG } from './peering.ts';
import type { Peering } from '../api/peering.ts';

/** The `peering read` command. */
export const peeringReadCommand: Command = {
  name: 'peering read',
  synopsis: 'Read a peering connection',
  flags: [
    { name: 'name', kind: 'string', default: '', usage: '(Required) The local name assigned to the peer cluster.' },
    PEERING_FORMAT_FLAG,
    ...HTTP_FLAGS, ...PARTITION_FLAGS,
  ],
  help: `
Usage: proconsul peering read [options] -name <peer name>

  Read a peering connection with the provided name.  If one is not found,
  the command will exit with a non-zero code. The result will be filtered according
  to ACL policy configuration.

  Example:

    $ proconsul peering read -name west-dc
`,
  async run(args: string[], io: CliIO): Promise<number> {
    return runWithClient(this.flags, args, io, async (client, flags) => {
      const out = ui(io);
      const checked = nameAndFormat(flags, out);
      if (!checked) return 1;
      const { name, format } = checked;
      const p = await readNamedPeering(client, name, out);
      if (!p) return 1;
      out.info(format === 'json' ? JSON.stringify(p) : formatPeering(p));
      return 0;
    }, (err) => err.message);
  },
};

/** A time as Go's `%v` prints a *time.Time (`<nil>` when unset). */
function goTimeValue(t: string | null | undefined): string {
  return t ? goTimeString(new Date(t)) : '<nil>';
}

/** Consul's formatPeering, its quirks kept (server addresses are not newline-separated). */
export function formatPeering(p: Peering): string {
  let s = `Name:         ${p.Name}\nID:           ${p.ID}\n`;
  if (p.Partition) s += `Partition:    ${p.Partition}\n`;
  if (p.DeletedAt) s += `DeletedAt:    ${new Date(p.DeletedAt).toISOString().replace(/\.\d+Z$/, 'Z')}\n`;
  s += `State:        ${p.State}\n`;
  const meta = Object.keys(p.Meta ?? {}).sort();
  if (meta.length > 0) s += `Meta:\n${meta.map((k) => `    ${k}=${p.Meta![k]}\n`).join('')}`;
  s += `\nPeer ID:               ${p.PeerID ?? ''}\nPeer Server Name:      ${p.PeerServerName ?? ''}\nPeer CA Pems:          ${p.PeerCAPems?.length ?? 0}\n`;
  if (p.PeerServerAddresses?.length) s += `Peer Server Addresses:\n${p.PeerServerAddresses.map((a) => `    ${a}`).join('')}`;
  const st = p.StreamStatus;
  s += `\nImported Services: ${st.ImportedServices?.length ?? 0}\nExported Services: ${st.ExportedServices?.length ?? 0}\n`;
  s += `\nLast Heartbeat:    ${goTimeValue(st.LastHeartbeat)}\nLast Send:         ${goTimeValue(st.LastSend)}\nLast Receive:      ${goTimeValue(st.LastReceive)}\n`;
  s += `\nCreate Index: ${p.CreateIndex}\nModify Index: ${p.ModifyIndex}\n`;
  return s;
}
