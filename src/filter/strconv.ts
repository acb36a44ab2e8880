// The parts of Go's strconv that go-bexpr leans on: Unquote for double-quoted literals and
// the ParseInt/ParseUint/ParseFloat/ParseBool coercions of a raw value to a field's type,
// with Go's error texts (`strconv.ParseInt: parsing "x": invalid syntax`).

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };

/** strconv.Unquote of `"body"`: Go escapes, bytes decoded as UTF-8; undefined when invalid. */
export function goUnquote(body: string): string | undefined {
  if (body.includes('\n')) return undefined;
  if (!body.includes('\\')) return body;
  const encoder = new TextEncoder();
  const bytes: number[] = [];
  for (let i = 0; i < body.length; ) {
    const c = body[i];
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      bytes.push(...encoder.encode(String.fromCodePoint(cp)));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1];
    if (e === undefined) return undefined;
    if (e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e]);
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return undefined;
      const v = parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return undefined;
      else bytes.push(...encoder.encode(String.fromCodePoint(v)));
      i += 2 + n;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) return undefined;
      bytes.push(parseInt(oct, 8));
      i += 4;
    } else {
      return undefined;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** A coercion failure worded like Go's *strconv.NumError. */
export class CoercionError extends Error {}

function numError(fn: string, raw: string, why = 'invalid syntax'): CoercionError {
  return new CoercionError(`strconv.${fn}: parsing ${JSON.stringify(raw)}: ${why}`);
}

const GO_INT = /^[+-]?(0[xX](_?[0-9a-fA-F])+|0[bB](_?[01])+|0[oO](_?[0-7])+|0(_?[0-7])*|[1-9](_?[0-9])*)$/;

function parseBigInt(fn: string, raw: string, signed: boolean): bigint {
  if (!GO_INT.test(raw) || (!signed && /^[+-]/.test(raw))) throw numError(fn, raw);
  const negative = raw.startsWith('-');
  let digits = raw.replace(/^[+-]/, '').replaceAll('_', '');
  // Go's base 0 reads a leading 0 as octal; BigInt wants 0o
  if (/^0[0-7]/.test(digits)) digits = `0o${digits.slice(1)}`;
  const magnitude = BigInt(digits.toLowerCase());
  return negative ? -magnitude : magnitude;
}

/** strconv.ParseInt(raw, 0, 64). */
export function goParseInt(raw: string): bigint {
  const v = parseBigInt('ParseInt', raw, true);
  if (v > 0x7fffffffffffffffn || v < -0x8000000000000000n) throw numError('ParseInt', raw, 'value out of range');
  return v;
}

/** strconv.ParseUint(raw, 0, 64). */
export function goParseUint(raw: string): bigint {
  const v = parseBigInt('ParseUint', raw, false);
  if (v > 0xffffffffffffffffn) throw numError('ParseUint', raw, 'value out of range');
  return v;
}

const GO_DECIMAL_FLOAT = /^[+-]?(\d(_?\d)*\.?(\d(_?\d)*)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?$/;
const GO_SPECIAL_FLOAT = /^[+-]?(inf|infinity|nan)$/i;

/** strconv.ParseFloat(raw, 64) for decimal, Inf and NaN spellings. */
export function goParseFloat(raw: string): number {
  if (GO_SPECIAL_FLOAT.test(raw)) {
    if (/nan/i.test(raw)) return NaN;
    return raw.startsWith('-') ? -Infinity : Infinity;
  }
  if (!GO_DECIMAL_FLOAT.test(raw)) throw numError('ParseFloat', raw);
  const v = Number(raw.replaceAll('_', ''));
  if (!Number.isFinite(v)) throw numError('ParseFloat', raw, 'value out of range');
  return v;
}

/** strconv.ParseBool: 1, t, T, TRUE, true, True and their false counterparts. */
export function goParseBool(raw: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  throw numError('ParseBool', raw);
}
