// `proconsul snapshot decode`: prints a snapshot file's header and records as Consul's stream of
// line-delimited JSON objects ({"Data":…,"Type":…}), from an archive or a raw state.bin.
import { decodeSnapshot } from '../snapshot/index.ts';
import { parseFileCommand, ui, type CliIO, type Command } from './io.ts';
import { loadSnapshotFile } from './snapshot-inspect.ts';

/** The `snapshot decode` command. */
export const snapshotDecodeCommand: Command = {
  name: 'snapshot decode',
  synopsis: 'Decodes the binary',
  flags: [],
  help: `
Usage: proconsul snapshot decode [options] FILE

  Decodes snapshot data and outputs a stream of line delimited JSON objects of the form:

  {"Type": "SnapshotHeader", "Data": {"<json encoded snapshot header>"}}
  {"Type": "<type name>","Data": {<json encoded data>}}
  {"Type": "<type name>","Data": {<json encoded data>}}
  ...
`,
  async run(args: string[], io: CliIO): Promise<number> {
    const out = ui(io);
    const parsed = parseFileCommand(this.flags, args, io);
    if (!parsed) return 1;
    let loaded: Awaited<ReturnType<typeof loadSnapshotFile>>;
    try {
      loaded = await loadSnapshotFile(parsed.file);
    } catch (err) {
      out.error((err as Error).message);
      return 1;
    }
    let lines: string[];
    try {
      lines = await decodeSnapshot(loaded.meta, loaded.state);
    } catch (err) {
      out.error(`Error extracting snapshot data: ${(err as Error).message}`);
      return 1;
    }
    io.stdout(lines.map((l) => `${l}\n`).join(''));
    return 0;
  },
};
