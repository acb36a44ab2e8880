// Table output as Consul's catalog commands produce it: ryanuber/columnize (columns joined by
// two spaces, left-aligned, last column unpadded) and Go's text/tabwriter with padding 6.

/** columnize.Format: pads every column but the last to its widest cell (in bytes, as Go's len) plus two spaces. */
export function columnize(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Buffer.byteLength(cell.trim()));
    });
  }
  const lines = rows.map((row) => row.map((raw, i) => {
    const cell = raw.trim();
    return i === row.length - 1 ? cell : cell + ' '.repeat(widths[i] - Buffer.byteLength(cell)) + '  ';
  }).join(''));
  return lines.join('\n').trim();
}

/** text/tabwriter(minwidth 0, padding 6, ' ') over `a\tb` lines, then trimmed as Consul does. */
export function tabwriter(rows: [string, string][]): string {
  const width = Math.max(0, ...rows.map(([a]) => [...a].length)) + 6;
  return rows.map(([a, b]) => a + ' '.repeat(width - [...a].length) + b).join('\n').trim();
}

/** Consul's mapToKV: `k=v` pairs sorted by key, joined. */
export function mapToKV(m: Record<string, string> | null | undefined, joiner: string): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${m![k]}`).join(joiner);
}
