// ClaimAssertions of `jwt` and `oidc` auth methods: bexpr expressions over the mapped claims
// (`value.<name>`, `list.<name>`, the variables binding-rule selectors see), compiled when the
// method is written and all required to hold at login, or the login is refused.
import { compileFilter, type FieldSchema, type Filter } from '../filter/index.ts';
import type { VerifiedIdentity } from './jwt.ts';

// What a login's selector variables look like to bexpr: two maps, keyed by mapping target.
const IDENTITY_FIELDS: FieldSchema = { value: { map: 'string' }, list: { map: { list: 'string' } } };

function compile(expr: string): Filter {
  return compileFilter(expr, { fields: IDENTITY_FIELDS });
}

/** Why a method's ClaimAssertions are invalid, or null; each must be a bexpr over value/list. */
export function claimAssertionsError(assertions: unknown): string | null {
  if (assertions === undefined || assertions === null) return null;
  if (!Array.isArray(assertions) || assertions.some((a) => typeof a !== 'string')) return "'ClaimAssertions' must be a list of strings";
  for (const [i, expr] of (assertions as string[]).entries()) {
    if (expr.trim() === '') return `ClaimAssertions[${i}] is invalid: empty expression`;
    try {
      compile(expr);
    } catch (err) {
      return `ClaimAssertions[${i}] is invalid: ${(err as Error).message}`;
    }
  }
  return null;
}

/** Throws why a login's mapped claims fail the first of the method's ClaimAssertions that does not hold. */
export function assertClaims(assertions: string[] | undefined, vars: VerifiedIdentity): void {
  for (const [i, expr] of (assertions ?? []).entries()) {
    let holds = false;
    try {
      holds = compile(expr).matches(vars);
    } catch {
      // An assertion that cannot be evaluated does not hold: refuse rather than let the login through.
    }
    if (!holds) throw new Error(`claims do not satisfy ClaimAssertions[${i}]: ${expr}`);
  }
}
