// ACL errors in Consul's words: rule-parsing failures with a position, `ACL not found`, and the
// `Permission denied: token with AccessorID '…' lacks permission '…' on "…"` family (acl/errors.go).
import { BadRequestError, PermissionDeniedError } from '../errors.ts';
import type { AccessLevel, AuthorizerContext, Resource } from './access.ts';

/** Consul's fixed ACL error texts; clients match them by substring. */
export const ACL_ERROR_TEXT = {
  notFound: 'ACL not found',
  rootDenied: 'Cannot resolve root ACL',
  disabled: 'ACL support disabled',
  permissionDenied: 'Permission denied',
  invalidParent: 'Invalid Parent',
} as const;

/** A policy's Rules could not be parsed or validated; `line`/`column` are 1-based when known. */
export class RulesError extends BadRequestError {
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(message: string, pos?: { line: number; column: number }, options?: { cause?: unknown }) {
    super(message, options);
    this.line = pos?.line;
    this.column = pos?.column;
  }
}

/** `ACL not found`: a secret that matches no token (HTTP 403 in Consul). */
export function aclNotFoundError(): PermissionDeniedError {
  return new PermissionDeniedError(ACL_ERROR_TEXT.notFound);
}

/** `Permission denied: <cause>` for denials that are not a rule decision (e.g. a bad token). */
export function permissionDenied(cause: string): PermissionDeniedError {
  return new PermissionDeniedError(`${ACL_ERROR_TEXT.permissionDenied}: ${cause}`);
}

/** The facts a rule-based denial names. */
export interface DenialFacts {
  /** Empty when the token is unknown to the caller: the message then says `provided token`. */
  accessorID: string;
  resource: Resource;
  access: AccessLevel;
  /** The segment checked; empty for unlabelled resources such as `operator`. */
  name?: string;
  ctx?: AuthorizerContext;
}

/** Formats Consul's permission-denied text for a rule-based denial. */
export function permissionDeniedMessage(facts: DenialFacts): string {
  const who = facts.accessorID === '' ? 'provided token' : `token with AccessorID '${facts.accessorID}'`;
  let msg = `${ACL_ERROR_TEXT.permissionDenied}: ${who} lacks permission '${facts.resource}:${facts.access}'`;
  if (facts.name) msg += ` on ${describeResource(facts.name, facts.ctx)}`;
  return msg;
}

// Consul CE names only the segment; Enterprise appends the partition and namespace. We append
// them only when they differ from the defaults, so default-scope messages match CE exactly.
function describeResource(name: string, ctx?: AuthorizerContext): string {
  let out = `"${name}"`;
  const partition = ctx?.partition ?? '';
  const namespace = ctx?.namespace ?? '';
  const custom = (partition !== '' && partition !== 'default') || (namespace !== '' && namespace !== 'default');
  if (!custom) return out;
  if (partition !== '') out += ` in partition "${partition}"`;
  if (namespace !== '') out += ` in namespace "${namespace}"`;
  return out;
}

/** A rule-based denial on a named segment (Consul's PermissionDeniedByACL). */
export function permissionDeniedByACL(
  accessorID: string,
  resource: Resource,
  access: AccessLevel,
  name: string,
  ctx?: AuthorizerContext,
): PermissionDeniedError {
  return new PermissionDeniedError(permissionDeniedMessage({ accessorID, resource, access, name, ctx }));
}

/** A rule-based denial on an unlabelled resource (Consul's PermissionDeniedByACLUnnamed). */
export function permissionDeniedByACLUnnamed(
  accessorID: string,
  resource: Resource,
  access: AccessLevel,
  ctx?: AuthorizerContext,
): PermissionDeniedError {
  return new PermissionDeniedError(permissionDeniedMessage({ accessorID, resource, access, ctx }));
}

/** Whether an error (or message) is Consul's ACL-not-found. */
export function isACLNotFound(err: unknown): boolean {
  return err instanceof Error && err.message.includes(ACL_ERROR_TEXT.notFound);
}

/** Whether an error (or message) is a permission denial. */
export function isPermissionDenied(err: unknown): boolean {
  return err instanceof Error && err.message.includes(ACL_ERROR_TEXT.permissionDenied);
}
