// The syntax errors of Go's encoding/json, for text JSON.parse refuses. Two callers' wordings:
// - 'decoder' (json.Decoder, request bodies): Consul answers "Request decode failed: invalid
//   character 'x' looking for beginning of value"; input ending early is "unexpected EOF" (empty
//   input "EOF"), and the Decoder reads the first value only, so text after it is ignored.
// - 'unmarshal' (json.Unmarshal, e.g. peering tokens): the whole input is checked first; input
//   ending early (or empty) is "unexpected end of JSON input", and text after the value is
//   "invalid character 'x' after top-level value".

/** Which Go entry point's errors to reproduce. */
export type GoJsonMode = 'decoder' | 'unmarshal';

/**
 * Why a text is not JSON, in Go's words; or, when it starts with a complete value (and, for
 * 'unmarshal', holds nothing else but whitespace), where that value ends.
 */
export function goJsonSyntax(text: string, mode: GoJsonMode = 'decoder'): { message: string } | { end: number } {
  const res = new GoScanner(text).run();
  if (mode === 'decoder') return res;
  if ('message' in res) return res.message === 'EOF' || res.message === 'unexpected EOF' ? { message: 'unexpected end of JSON input' } : res;
  const rest = text.slice(res.end).search(/[^ \t\r\n]/);
  if (rest >= 0) return { message: `invalid character ${quote(text[res.end + rest])} after top-level value` };
  return res;
}

type Frame = '{' | '[';

class GoScanner {
  #t: string;
  #i = 0;
  #stack: Frame[] = [];

  constructor(text: string) {
    this.#t = text;
  }

  run(): { message: string } | { end: number } {
    this.#ws();
    if (this.#i >= this.#t.length) return { message: 'EOF' };
    let mode: 'value' | 'first-value' | 'key' | 'first-key' = 'value';
    for (;;) {
      this.#ws();
      if (this.#i >= this.#t.length) return { message: 'unexpected EOF' };
      const c = this.#t[this.#i];
      if ((mode === 'first-value' && c === ']') || (mode === 'first-key' && c === '}')) {
        this.#stack.pop();
      } else if (mode === 'key' || mode === 'first-key') {
        if (c !== '"') return this.#bad('looking for beginning of object key string');
        const err = this.#string();
        if (err) return err;
        this.#ws();
        if (this.#i >= this.#t.length) return { message: 'unexpected EOF' };
        if (this.#t[this.#i] !== ':') return this.#bad('after object key');
        this.#i++;
        mode = 'value';
        continue;
      } else if (c === '{' || c === '[') {
        this.#stack.push(c);
        this.#i++;
        mode = c === '{' ? 'first-key' : 'first-value';
        continue;
      } else {
        const err = this.#scalar();
        if (err) return err;
        this.#i--;
      }
      this.#i++;
      // After a value: the end of the document, or a separator of the enclosing frame.
      const next = this.#after();
      if ('end' in next || 'message' in next) return next;
      mode = next.mode;
    }
  }

  #after(): { end: number } | { message: string } | { mode: 'value' | 'key' } {
    for (;;) {
      const top = this.#stack.at(-1);
      if (!top) return { end: this.#i };
      this.#ws();
      if (this.#i >= this.#t.length) return { message: 'unexpected EOF' };
      const c = this.#t[this.#i];
      if (c === ',') {
        this.#i++;
        return { mode: top === '{' ? 'key' : 'value' };
      }
      if ((top === '{' && c === '}') || (top === '[' && c === ']')) {
        this.#stack.pop();
        this.#i++;
        continue;
      }
      return this.#bad(top === '{' ? 'after object key:value pair' : 'after array element');
    }
  }

  #scalar(): { message: string } | undefined {
    const c = this.#t[this.#i];
    if (c === '"') return this.#string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.#number();
    for (const lit of ['true', 'false', 'null']) {
      if (c !== lit[0]) continue;
      for (let k = 1; k < lit.length; k++) {
        this.#i++;
        if (this.#i >= this.#t.length) return { message: 'unexpected EOF' };
        if (this.#t[this.#i] !== lit[k]) return this.#bad(`in literal ${lit} (expecting ${quote(lit[k])})`);
      }
      this.#i++;
      return undefined;
    }
    return this.#bad('looking for beginning of value');
  }

  #string(): { message: string } | undefined {
    const t = this.#t;
    for (this.#i++; this.#i < t.length; this.#i++) {
      const c = t[this.#i];
      if (c === '"') {
        this.#i++;
        return undefined;
      }
      if (c < ' ') return this.#bad('in string literal');
      if (c !== '\\') continue;
      this.#i++;
      if (this.#i >= t.length) break;
      if (t[this.#i] === 'u') {
        for (let k = 0; k < 4; k++) {
          this.#i++;
          if (this.#i >= t.length) return { message: 'unexpected EOF' };
          if (!/[0-9a-fA-F]/.test(t[this.#i])) return this.#bad('in \\u hexadecimal character escape');
        }
      } else if (!'"\\/bfnrt'.includes(t[this.#i])) return this.#bad('in string escape code');
    }
    return { message: 'unexpected EOF' };
  }

  #number(): { message: string } | undefined {
    const t = this.#t;
    const digit = () => this.#i < t.length && t[this.#i] >= '0' && t[this.#i] <= '9';
    const need = (what: string) => (this.#i >= t.length ? { message: 'unexpected EOF' } : this.#bad(what));
    if (t[this.#i] === '-') {
      this.#i++;
      if (!digit()) return need('in numeric literal');
    }
    if (t[this.#i] === '0') this.#i++;
    else while (digit()) this.#i++;
    if (t[this.#i] === '.') {
      this.#i++;
      if (!digit()) return need('after decimal point in numeric literal');
      while (digit()) this.#i++;
    }
    if (t[this.#i] === 'e' || t[this.#i] === 'E') {
      this.#i++;
      if (t[this.#i] === '+' || t[this.#i] === '-') this.#i++;
      if (!digit()) return need('in exponent of numeric literal');
      while (digit()) this.#i++;
    }
    return undefined;
  }

  #ws(): void {
    while (this.#i < this.#t.length && ' \t\r\n'.includes(this.#t[this.#i])) this.#i++;
  }

  #bad(what: string): { message: string } {
    return { message: `invalid character ${quote(this.#t[this.#i])} ${what}` };
  }
}

const GO_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** Go's quoteChar: the scanner's byte as a quoted rune ('x', '\'', '"', '\x00'). */
function quote(ch: string): string {
  if (ch === "'") return "'\\''";
  if (ch === '"') return "'\"'";
  // Go's scanner steps bytes: a non-ASCII character is named by its first UTF-8 byte.
  const c = ch.charCodeAt(0) < 0x80 ? ch : String.fromCharCode(Buffer.from(ch)[0]);
  const code = c.charCodeAt(0);
  if (GO_ESCAPES[c]) return `'${GO_ESCAPES[c]}'`;
  if (code < 0x20 || code === 0x7f) return `'\\x${code.toString(16).padStart(2, '0')}'`;
  if (code >= 0x80 && code < 0xa0) return `'\\u00${code.toString(16).padStart(2, '0')}'`;
  if (c === '\\') return "'\\\\'";
  return `'${c}'`;
}
