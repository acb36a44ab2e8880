// `proconsul snapshot inspect`: verifies a snapshot file and prints its metadata (ID, Size,
// Index, Term, Version) and record counts and sizes by type, in Consul's layout; -kvdetails
// breaks KV usage down by key prefix, -format=json prints the same as JSON.
import fs from 'node:fs/promises';
import path from 'node:path';
import { goFileError } from '../api/errors.ts';
import { byteSize, readArchive, summarize, type SnapshotMeta, type StateSummary, type TypeStats } from '../snapshot/index.ts';
import { parseFileCommand, ui, type CliIO, type Command } from './io.ts';

/** Go text/tabwriter for tab-terminated cells: each column as wide as its widest cell plus padding. */
function tabulate(rows: string[][], minWidth: number, padding: number, tail: string[] = []): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, minWidth - padding, c.length); });
  return rows.map((r, n) => r.map((c, i) => c.padEnd(widths[i] + padding)).join('') + (tail[n] ?? ''));
}

function statRows(title: string, stats: TypeStats[], total: number): string[][] {
  return [
    [` ${title}`, 'Count', 'Size'], [' ----', '----', '----'],
    ...stats.map((s) => [` ${s.Name}`, String(s.Count), byteSize(s.Sum)]),
    [' ----', '----', '----'], [' Total', '', byteSize(total)],
  ];
}

/** Consul's pretty output for a snapshot's meta and summary. */
export function formatPretty(meta: SnapshotMeta, sum: StateSummary): string {
  const head = tabulate([[' ID'], [' Size'], [' Index'], [' Term'], [' Version']], 8, 6,
    [meta.ID, String(meta.Size), String(meta.Index), String(meta.Term), String(meta.Version)]);
  const lines = [...head, '', ...tabulate(statRows('Type', sum.Stats, sum.TotalSize), 8, 6)];
  if (sum.StatsKV) lines.push('', ...tabulate(statRows('Key Name', sum.StatsKV, sum.TotalSizeKV), 30, 12));
  return lines.join('\n');
}

/** Consul's -format=json output. */
export function formatJson(meta: SnapshotMeta, sum: StateSummary): string {
  const Meta = { ID: meta.ID, Size: meta.Size, Index: meta.Index, Term: meta.Term, Version: meta.Version };
  return JSON.stringify({ Meta, Stats: sum.Stats, StatsKV: sum.StatsKV, TotalSize: sum.TotalSize, TotalSizeKV: sum.TotalSizeKV }, null, 3);
}

/** A snapshot file's meta and state.bin; a raw state.bin (from a server's data dir) is read with the meta.json beside it, as Consul does. */
export async function loadSnapshotFile(file: string): Promise<{ meta: SnapshotMeta; state: Buffer }> {
  const bytes = await fs.readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`Error opening snapshot file: ${goFileError(err, file)}`);
  });
  if (!isRawState(file)) {
    return readArchive(bytes).catch((err: Error) => { throw new Error(`Error reading snapshot: ${err.message}`); });
  }
  return { meta: await rawStateMeta(file), state: bytes };
}

/** True for a raw state.bin (read with the meta.json beside it) rather than a snapshot archive. */
export function isRawState(file: string): boolean {
  return path.basename(file).toLowerCase() === 'state.bin';
}

/** The meta.json beside a raw state.bin, or Consul's errors. */
export async function rawStateMeta(file: string): Promise<SnapshotMeta> {
  const metaFile = path.join(path.dirname(file), 'meta.json');
  const raw = await fs.readFile(metaFile).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`Error reading meta.json from internal snapshot dir: ${goFileError(err, metaFile)}`);
  });
  try {
    return JSON.parse(raw.toString('utf8')) as SnapshotMeta;
  } catch (err) {
    throw new Error(`Error parsing meta.json from internal snapshot dir: ${(err as Error).message}`);
  }
}

/** The `snapshot inspect` command. */
export const snapshotInspectCommand: Command = {
  name: 'snapshot inspect',
  synopsis: 'Displays information about a Consul snapshot file',
  flags: [
    { name: 'kvdetails', kind: 'bool', usage: "Provides a detailed KV space usage breakdown for any KV data that's been stored." },
    { name: 'kvdepth', kind: 'int', default: 2, usage: 'Can only be used with -kvdetails. The key prefix depth used to breakdown KV store data. Defaults to 2.' },
    { name: 'kvfilter', kind: 'string', usage: 'Can only be used with -kvdetails. Limits KV key breakdown using this prefix filter.' },
    { name: 'format', kind: 'string', default: 'pretty', usage: 'Output format {pretty|json}' },
  ],
  help: `
Usage: proconsul snapshot inspect [options] FILE

  Displays information about a snapshot file on disk.

  To inspect the file "backup.snap":

      $ proconsul snapshot inspect backup.snap

  For a full list of options and examples, please see the Consul documentation.
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const parsed = parseFileCommand(this.flags, args, io);
    if (!parsed) return 1;
    const { flags, file } = parsed;
    const format = String(flags.values.format);
    try {
      if (format !== 'pretty' && format !== 'json') throw new Error(`Error outputting enhanced snapshot data: Unknown format: ${format}`);
      const { meta, state } = await loadSnapshotFile(file);
      const kv = flags.values.kvdetails === true ? { depth: Number(flags.values.kvdepth), filter: String(flags.values.kvfilter ?? '') } : undefined;
      const sum = await summarize(state, kv).catch((err: Error) => { throw new Error(`Error extracting snapshot data: ${err.message}`); });
      out.info(format === 'json' ? formatJson(meta, sum) : formatPretty(meta, sum));
      return 0;
    } catch (err) {
      out.error((err as Error).message);
      return 1;
    }
  },
};
