// Parsing one configuration source (a file, an -hcl fragment, the flags) into a decoded,
// de-deprecated tree, failing with Consul's `failed to parse <source>: …` messages.
import { parseHclText } from '../../hcl.ts';
import { decodeDocument } from './decode.ts';
import { applyDeprecated } from './deprecated.ts';
import { ConfigError, multiError } from './error.ts';
import { configSpec } from './keys.ts';
import { isObject, type ConfigTree } from './merge.ts';

/** A named piece of configuration text. */
export interface Source {
  name: string;
  format: 'json' | 'hcl';
  data: string;
}

/** A parsed source ready to merge. */
export interface ParsedSource {
  name: string;
  tree: ConfigTree;
  warnings: string[];
  /** Value errors (bad durations) that Consul reports after the merge. */
  valueErrors: string[];
}

const HCL_ERROR = 'unable to parse JSON: ';

/** Parses JSON or HCL v1 text to a plain object; throws the parser's message. */
export function parseText(data: string, format: 'json' | 'hcl'): ConfigTree {
  let doc: unknown;
  if (format === 'json') {
    doc = JSON.parse(data);
  } else {
    const out = parseHclText(data);
    if (out.startsWith(HCL_ERROR)) throw new Error(out.slice(HCL_ERROR.length));
    if (out.startsWith('unable to')) throw new Error(out);
    doc = JSON.parse(out);
  }
  if (!isObject(doc)) throw new Error(`json: cannot unmarshal ${Array.isArray(doc) ? 'array' : typeof doc} into Go value of type map[string]interface {}`);
  return doc;
}

/** Moves a single `service`/`check` (or HCL's repeated blocks) into the `services`/`checks` lists. */
function foldSingles(tree: ConfigTree): void {
  for (const [one, many] of [['service', 'services'], ['check', 'checks']] as const) {
    if (tree[one] === undefined) continue;
    const list = Array.isArray(tree[many]) ? (tree[many] as unknown[]) : [];
    tree[many] = [...list, tree[one]];
    delete tree[one];
  }
}

/** Parses and decodes one source; returns null for an empty source (Consul's ErrNoData). */
export function parseSource(src: Source): ParsedSource | null {
  if (src.data.trim() === '') return null;
  let doc: ConfigTree;
  try {
    doc = parseText(src.data, src.format);
  } catch (err) {
    throw new ConfigError(`failed to parse ${src.name}: ${(err as Error).message}`, { cause: err });
  }
  return decodeTree(src.name, doc);
}

/** Decodes an already-parsed document (used for flag values too). */
export function decodeTree(name: string, doc: ConfigTree): ParsedSource {
  // HCL yields repeated `service {}` / `check {}` blocks as a list: each block is one entry.
  for (const [one, many] of [['service', 'services'], ['check', 'checks']] as const) {
    const v = doc[one];
    if (!Array.isArray(v)) continue;
    doc = { ...doc, [many]: [...(Array.isArray(doc[many]) ? (doc[many] as unknown[]) : []), ...v] };
    delete doc[one];
  }
  const { tree, report } = decodeDocument(doc, configSpec);
  if (report.typeErrors.length > 0) {
    const n = report.typeErrors.length;
    throw new ConfigError(`failed to parse ${name}: ${n} error(s) decoding:\n\n${report.typeErrors.map((e) => `* ${e}`).join('\n')}`);
  }
  if (report.unused.length > 0) {
    throw new ConfigError(`failed to parse ${name}: ${multiError(report.unused.map((k) => `invalid config key ${k}`))}`);
  }
  const warnings = [...report.warnings, ...applyDeprecated(tree)];
  foldSingles(tree);
  return { name, tree, warnings, valueErrors: report.valueErrors };
}
