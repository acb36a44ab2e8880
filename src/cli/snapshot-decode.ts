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
    // Written as it is decoded, in batches of about 64 KiB: the output is never one string.
    let batch: string[] = [];
    let size = 0;
    const flush = () => {
      if (batch.length) io.stdout(batch.join(''));
      batch = [];
      size = 0;
    };
    try {
      for await (const l of decodeSnapshot(loaded.meta, loaded.state)) {
        batch.push(l, '\n');
        size += l.length + 1;
        if (size >= 64 * 1024) flush();
      }
    } catch (err) {
      flush();
      out.error(`Error extracting snapshot data: ${(err as Error).message}`);
      return 1;
    }
    flush();
    return 0;
  },
};
