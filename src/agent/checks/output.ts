// Captured check output: a tail-keeping byte buffer (Consul's circbuf) and the two truncation
// notices Consul prints, plus Go's duration text used in timeout messages.

/** Keeps the last `size` bytes written and counts every byte. */
export interface TailBuffer {
  write(chunk: Buffer): void;
  /** The retained tail. */
  bytes(): Buffer;
  /** Capacity in bytes. */
  readonly size: number;
  /** Bytes written so far, including the ones dropped. */
  total(): number;
}

/** Creates a tail buffer of `size` bytes (Consul's circbuf.NewBuffer). */
export function createTailBuffer(size: number): TailBuffer {
  let chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  return {
    size,
    write(chunk) {
      total += chunk.length;
      chunks.push(chunk);
      kept += chunk.length;
      if (kept > size * 2) {
        // Compact now and then so a chatty script cannot grow memory without bound.
        const all = Buffer.concat(chunks);
        chunks = [all.subarray(all.length - size)];
        kept = size;
      }
    },
    bytes() {
      const all = Buffer.concat(chunks);
      return all.length > size ? all.subarray(all.length - size) : all;
    },
    total: () => total,
  };
}

/** Script/docker output: the tail, prefixed with `Captured N of M bytes` when bytes were dropped. */
export function capturedOutput(buf: TailBuffer): string {
  const text = buf.bytes().toString('utf8');
  if (buf.total() > buf.size) return `Captured ${buf.size} of ${buf.total()} bytes\n...\n${text}`;
  return text;
}

/** TTL output: the head, suffixed with `... (captured N of M bytes)` when longer than `max` bytes. */
export function truncateHead(output: string, max: number): string {
  const bytes = Buffer.from(output, 'utf8');
  if (bytes.length <= max) return output;
  return `${bytes.subarray(0, max).toString('utf8')} ... (captured ${max} of ${bytes.length} bytes)`;
}

/** Go's time.Duration.String (`30s`, `1m30s`, `500ms`); kept as a name for the check runners. */
export { formatGoDuration as goDuration } from '../../duration.ts';
