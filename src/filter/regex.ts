// Go RE2 patterns (`matches`) run on JS RegExp: the RE2 spellings JS lacks are translated
// (`(?P<n>`, `\A`, `\z`, `\pL`, `[[:alpha:]]`, leading `(?i)`), and what RE2 rejects
// (lookarounds, backreferences) is rejected with Go's error text.

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`{-~', space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};

/** A compile failure worded like Go's regexp.Compile. */
export class RegexSyntaxError extends Error {}

function goError(code: string, arg: string): RegexSyntaxError {
  return new RegexSyntaxError(`error parsing regexp: ${code}: \`${arg}\``);
}

/** Compiles an RE2 pattern to an equivalent RegExp, or throws RegexSyntaxError. */
export function compileGoRegex(pattern: string): RegExp {
  let flags = '';
  let source = pattern;
  const leading = /^\(\?([imsU]+)\)/.exec(source);
  if (leading) {
    if (leading[1].includes('U')) throw goError('invalid or unsupported Perl syntax', '(?U');
    flags = [...new Set(leading[1])].join('');
    source = source.slice(leading[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const e = source[i + 1] ?? '';
      if (/[1-9]/.test(e)) throw goError('invalid escape sequence', `\\${e}`);
      if (e === 'A' && !inClass) out += '^';
      else if (e === 'z' && !inClass) out += '$(?![\\s\\S])';
      else if ((e === 'p' || e === 'P') && source[i + 2] !== '{') {
        out += `\\${e}{${source[i + 2] ?? ''}}`;
        i++;
      } else if ((e === 'p' || e === 'P') && /^\{[A-Za-z_]{3,}\}/.test(source.slice(i + 2))) {
        // RE2 names scripts bare (\p{Greek}); JS wants Script=Greek. One or two letters are categories.
        const name = source.slice(i + 3, source.indexOf('}', i));
        out += `\\${e}{Script=${name}}`;
        i += name.length + 2;
      } else out += c + e;
      i++;
      continue;
    }
    if (inClass) {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(source.slice(i));
      if (posix && POSIX_CLASSES[posix[2]] !== undefined) {
        if (posix[1]) throw goError('invalid character class range', posix[0]);
        out += POSIX_CLASSES[posix[2]];
        i += posix[0].length - 1;
        continue;
      }
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // a `]` right after `[` or `[^` is a literal in RE2
      const negate = source[i + 1] === '^' ? '^' : '';
      if (source[i + 1 + negate.length] === ']') {
        out += `${negate}\\]`;
        i += 1 + negate.length;
      }
      continue;
    }
    if (c === '(' && source[i + 1] === '?') {
      const rest = source.slice(i + 2);
      if (/^(=|!|<=|<!)/.test(rest)) throw goError('invalid or unsupported Perl syntax', `(?${rest.startsWith('<') ? rest.slice(0, 2) : rest[0]}`);
      if (rest.startsWith('P<')) {
        out += '(?<';
        i += 3;
        continue;
      }
    }
    out += c;
  }
  try {
    return new RegExp(out, flags + (/\\[pP]\{/.test(out) ? 'u' : ''));
  } catch (err) {
    throw new RegexSyntaxError(`error parsing regexp: ${(err as Error).message}`);
  }
}
