// HCL v1 parsing through js-hcl-parser (a large GopherJS build), required on the first HCL text
// rather than at start-up: most runs (`agent -dev`, JSON config, JSON rules) never parse HCL.
import { createRequire } from 'node:module';
import type HCLModule from 'js-hcl-parser';

let hcl: typeof HCLModule | undefined;

/**
 * The deepest nesting handed to the parser. Its GopherJS frames are deep: past ~250 levels of
 * `{`/`[` it overflows the stack, and with the unlimited stack traces GopherJS turns on, each
 * level's unwinding costs seconds of CPU on the event loop (a 300 KB rules text took 32 s).
 * Real configs and ACL rules nest a handful of levels.
 */
export const MAX_HCL_DEPTH = 100;

/** HCL v1 text → JSON text, or a message starting with "unable to parse JSON:" (js-hcl-parser's `parse`). */
export function parseHclText(input: string): string {
  const deep = tooDeep(input);
  if (deep) return `unable to parse JSON: At ${deep.line}:${deep.column}: nesting deeper than ${MAX_HCL_DEPTH} levels`;
  if (!hcl) {
    // GopherJS sets Error.stackTraceLimit to Infinity when it loads (its panics measure stack
    // depth); left so, every Error the agent makes afterwards records its whole stack. It gets
    // its limit only while it parses.
    const ours = Error.stackTraceLimit;
    hcl = createRequire(import.meta.url)('js-hcl-parser') as typeof HCLModule;
    gopherStackLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = ours;
  }
  const ours = Error.stackTraceLimit;
  Error.stackTraceLimit = gopherStackLimit;
  try {
    return hcl.parse(input);
  } finally {
    Error.stackTraceLimit = ours;
  }
}

let gopherStackLimit = Infinity;

/** Where the nesting of `{` and `[` outside strings and comments first passes MAX_HCL_DEPTH, if it does. */
function tooDeep(s: string): { line: number; column: number } | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0a) { line++; lineStart = i + 1; } else if (c === 0x22) {
      // A string: skip to its closing quote (escapes included); a newline ends an unclosed one.
      for (i++; i < s.length && s[i] !== '"' && s[i] !== '\n'; i++) if (s[i] === '\\') i++;
      if (s[i] === '\n') i--;
    } else if (c === 0x23 || (c === 0x2f && s[i + 1] === '/')) {
      const end = s.indexOf('\n', i);
      i = end < 0 ? s.length : end - 1;
    } else if (c === 0x2f && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      for (let j = i; j < (end < 0 ? s.length : end); j++) if (s.charCodeAt(j) === 0x0a) { line++; lineStart = j + 1; }
      i = end < 0 ? s.length : end + 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_HCL_DEPTH) return { line, column: i - lineStart + 1 };
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}
