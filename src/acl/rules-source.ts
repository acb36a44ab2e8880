// Rules text to a plain tree (HCL v1 through js-hcl-parser, JSON through JSON.parse) and a
// best-effort locator that finds where a rule was written, for error positions.
import { parseHclText } from '../hcl.ts';
import { RulesError } from './errors.ts';

/** A rules text with its parsed tree. */
export interface RulesSource {
  text: string;
  format: 'hcl' | 'json';
  tree: Record<string, unknown>;
}

/** A 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

const PARSE_PREFIX = 'Failed to parse ACL rules: ';
const HCL_ERROR = 'unable to parse JSON: ';

/** Parses rules text; syntax errors become RulesError with the parser's position. */
export function readRulesText(text: string): RulesSource {
  // hashicorp/hcl picks its JSON parser when the first non-space character is `{`.
  const format = /^\s*\{/.test(text) ? 'json' : 'hcl';
  const doc = format === 'json' ? parseJSON(text) : parseHCL(text);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new RulesError(`${PARSE_PREFIX}root: expected an object`);
  }
  return { text, format, tree: doc as Record<string, unknown> };
}

function parseHCL(text: string): unknown {
  const out = parseHclText(text);
  if (!out.startsWith('unable to')) return JSON.parse(out);
  const message = out.startsWith(HCL_ERROR) ? out.slice(HCL_ERROR.length) : out;
  const at = /^At (\d+):(\d+):/.exec(message);
  const pos = at ? { line: Number(at[1]), column: Number(at[2]) } : undefined;
  throw new RulesError(PARSE_PREFIX + message, pos);
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const lc = /\(line (\d+) column (\d+)\)/.exec(message);
    const pos = lc ? { line: Number(lc[1]), column: Number(lc[2]) } : endPosition(text);
    throw new RulesError(`${PARSE_PREFIX}At ${pos.line}:${pos.column}: ${message}`, pos, { cause: err });
  }
}

function endPosition(text: string): Position {
  return positionOf(text, text.length);
}

/** The 1-based line and column of a character offset. */
export function positionOf(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/** One step of a rule's path: a block/attribute name, or a block label (quoted in the text). */
export interface PathStep {
  word: string;
  label: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function stepPattern(step: PathStep, format: 'hcl' | 'json'): RegExp {
  const quoted = `"${escapeRegExp(JSON.stringify(step.word).slice(1, -1))}"`;
  if (step.label || format === 'json') return new RegExp(quoted, 'g');
  return new RegExp(`(?<![\\w"-])${escapeRegExp(step.word)}(?![\\w"-])|${quoted}`, 'gi');
}

/**
 * Finds where the rule at `path` was written, walking the steps in order through the text;
 * returns the position of the last name (not label) step, or undefined when not found.
 */
export function locate(source: RulesSource, path: PathStep[]): Position | undefined {
  let from = 0;
  let found: number | undefined;
  for (const step of path) {
    const re = stepPattern(step, source.format);
    re.lastIndex = from;
    const m = re.exec(source.text);
    if (!m) return found === undefined ? undefined : positionOf(source.text, found);
    if (!step.label) found = m.index;
    from = m.index + m[0].length;
  }
  return found === undefined ? undefined : positionOf(source.text, found);
}
