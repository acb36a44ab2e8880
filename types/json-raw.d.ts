// JSON.rawJSON / JSON.isRawJSON (TC39 "JSON.parse source text access", shipped in V8 and
// Node 21+) are not yet in TypeScript's lib: declared here for uint64 fields like KV Flags.
interface JSON {
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): boolean;
}
