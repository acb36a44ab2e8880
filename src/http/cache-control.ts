// The request's Cache-Control as Consul's parseCacheControl reads it for `?cached` reads:
// max-age, must-revalidate (max-age=0 implies it) and stale-if-error, in whole seconds.
import { BadRequestError } from '../errors.ts';

/** The directives a cached read honours. */
export interface CacheControl {
  maxAgeMs: number;
  mustRevalidate: boolean;
  staleIfErrorMs: number;
}

/** Consul's answer (400) to a max-age or stale-if-error that is not an integer. */
export const INVALID_CACHE_CONTROL = 'Invalid Cache-Control header.';

/** Parses a Cache-Control header (absent: no directives); other directives are ignored. */
export function parseCacheControl(raw: string | string[] | undefined): CacheControl {
  const out: CacheControl = { maxAgeMs: 0, mustRevalidate: false, staleIfErrorMs: 0 };
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value) return out;
  for (const part of value.toLowerCase().split(',')) {
    const d = part.trim();
    if (d === 'must-revalidate') out.mustRevalidate = true;
    else if (d.startsWith('max-age=')) {
      out.maxAgeMs = seconds(d.slice(8));
      // max-age=0 means stale at once, which an unset max-age (also 0) cannot say.
      if (out.maxAgeMs === 0) out.mustRevalidate = true;
    } else if (d.startsWith('stale-if-error=')) out.staleIfErrorMs = seconds(d.slice(15));
  }
  return out;
}

// Go's strconv.Atoi: an optional sign and decimal digits.
function seconds(s: string): number {
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw new BadRequestError(INVALID_CACHE_CONTROL);
  return Number(s) * 1000;
}
