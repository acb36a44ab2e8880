// `rules/translate`: rewriting pre-1.4 rules, whose `key "app/"` meant a prefix, into the current
// syntax (`key_prefix "app/"`), as Consul's TranslateLegacyRules renames bare object keys.
import { parseHclText } from '../hcl.ts';
import { RulesError } from './errors.ts';

const RENAMED: Record<string, string> = {
  agent: 'agent_prefix',
  key: 'key_prefix',
  node: 'node_prefix',
  query: 'query_prefix',
  service: 'service_prefix',
  session: 'session_prefix',
  event: 'event_prefix',
};

// Returns the index just past a string, comment or heredoc starting at `i`, or -1 if none starts there.
function skipNonCode(text: string, i: number): number {
  const c = text[i];
  if (c === '#' || (c === '/' && text[i + 1] === '/')) {
    const nl = text.indexOf('\n', i);
    return nl === -1 ? text.length : nl;
  }
  if (c === '/' && text[i + 1] === '*') {
    const end = text.indexOf('*/', i + 2);
    return end === -1 ? text.length : end + 2;
  }
  if (c === '"') {
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  }
  const heredoc = /^<<-?([A-Za-z_][\w-]*)\r?\n/.exec(text.slice(i));
  if (heredoc) {
    const close = new RegExp(`\\n\\s*${heredoc[1]}(?=\\r?\\n|$)`).exec(text.slice(i + heredoc[0].length - 1));
    return close ? i + heredoc[0].length - 1 + close.index + close[0].length : text.length;
  }
  return -1;
}

const IDENT = /[A-Za-z_][\w\-.]*/y;

// A bare identifier is an object key when a label, a block or an assignment follows it.
function isObjectKey(text: string, end: number): boolean {
  const rest = /^\s*(["{=])/.exec(text.slice(end));
  return rest !== null;
}

/**
 * Translates legacy rules to the current syntax: bare `agent`, `key`, `node`, `query`, `service`,
 * `session` and `event` keys gain `_prefix`. Formatting and comments are kept as written.
 */
export function translateLegacyRules(rules: string): string {
  const parsed = parseHclText(rules);
  if (parsed.startsWith('unable to')) {
    throw new RulesError(`Failed to parse rules: ${parsed.replace(/^unable to parse JSON: /, '')}`);
  }
  let out = '';
  let i = 0;
  while (i < rules.length) {
    const skipped = skipNonCode(rules, i);
    if (skipped !== -1) {
      out += rules.slice(i, skipped);
      i = skipped;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(rules);
    if (ident) {
      const word = ident[0];
      const end = i + word.length;
      out += RENAMED[word] !== undefined && isObjectKey(rules, end) ? RENAMED[word] : word;
      i = end;
      continue;
    }
    out += rules[i];
    i++;
  }
  return out;
}
