// ACL.Login (Consul's acl_endpoint_login.go): a bearer token verified by its auth method becomes
// selector variables; every binding rule whose selector matches adds a service or node identity,
// a role, a policy or a templated policy to a new token linked to the auth method.
import {
  permissionDenied,
  type ACLBindingRule, type JwtKeySourceConfig, type RemoteKeySets, type VerifiedIdentity,
} from '../acl/index.ts';
import { BadRequestError } from '../errors.ts';
import { compileFilter } from '../filter/index.ts';
import { parseGoDuration } from '../duration.ts';
import type { ACLAuthMethodRecord, EnterpriseMeta } from '../state/index.ts';
import { aclInTenant } from '../state/acl-tables.ts';
import { sameAclName } from './acl-links.ts';
import { linkScopes, policyByName, roleByName } from './acl-tenancy.ts';
import type { TokenInput } from './acl-tokens.ts';
import type { EndpointDeps } from './deps.ts';
import { identityProviders } from './acl-oidc.ts';


/** The body of /v1/acl/login. */
export interface LoginParams {
  AuthMethod: string;
  BearerToken: string;
  Meta?: Record<string, string>;
}

/** Verifies the bearer token with the method's validator; throws a permission denial saying why not. */
export async function verifyLogin(method: ACLAuthMethodRecord, bearer: string, nowMs: number, keys: RemoteKeySets): Promise<VerifiedIdentity> {
  if (method.Type === 'oidc') throw new BadRequestError('ClaimsFromJWT is incompatible with type "oidc"');
  if (method.Type !== 'jwt') throw new BadRequestError(`login with auth method type ${JSON.stringify(method.Type)} is not supported by this server yet`);
  const cfg = method.Config as JwtKeySourceConfig;
  const { assertClaims, mapClaims, verifyJwt, verifyRemoteJwt } = await identityProviders();
  try {
    const remote = cfg.JWKSURL || cfg.OIDCDiscoveryURL;
    const claims = remote ? await verifyRemoteJwt(bearer, cfg, await keys.source(cfg), nowMs) : verifyJwt(bearer, cfg, nowMs);
    const vars = mapClaims(claims, cfg);
    assertClaims(cfg.ClaimAssertions, vars);
    return vars;
  } catch (err) {
    throw permissionDenied(`failed to validate bearer token: ${(err as Error).message}`);
  }
}

// HIL-style `${value.name}` interpolation of a bind name; an unknown variable is an error.
function interpolate(template: string, vars: VerifiedIdentity): string {
  return template.replace(/\$\{\s*value\.([A-Za-z0-9_\-.]+)\s*\}/g, (_m, name: string) => {
    if (!(name in vars.value)) throw new BadRequestError(`cannot compute BindName: unknown variable value.${name}`);
    return vars.value[name];
  });
}

function matches(rule: ACLBindingRule, vars: VerifiedIdentity): boolean {
  return rule.Selector === '' || compileFilter(rule.Selector).matches(vars);
}

/**
 * The token a login grants: the grants of every matching binding rule of the method's tenant
 * (`methodEnt`; permission denied when none). Role and policy bindings name records of the token's
 * tenant (`tokenEnt`: its namespace only), where the token will be created.
 */
export function loginToken(
  deps: EndpointDeps, method: ACLAuthMethodRecord, vars: VerifiedIdentity, meta?: Record<string, string>,
  methodEnt?: EnterpriseMeta, tokenEnt?: EnterpriseMeta,
): TokenInput {
  const acl = deps.replica.acl;
  const scopes = linkScopes(tokenEnt);
  const t: Required<Pick<TokenInput, 'ServiceIdentities' | 'NodeIdentities' | 'Roles' | 'Policies' | 'TemplatedPolicies'>> = {
    ServiceIdentities: [], NodeIdentities: [], Roles: [], Policies: [], TemplatedPolicies: [],
  };
  for (const rule of acl.bindingRules.sorted().filter((r) => sameAclName(r.AuthMethod, method.Name) && aclInTenant(r, methodEnt) && matches(r, vars))) {
    const name = interpolate(rule.BindName, vars);
    if (rule.BindType === 'service') t.ServiceIdentities.push({ ServiceName: name });
    else if (rule.BindType === 'node') t.NodeIdentities.push({ NodeName: name, Datacenter: deps.config.datacenter });
    else if (rule.BindType === 'role' && roleByName(acl, name, scopes)) t.Roles.push({ ID: '', Name: name });
    else if (rule.BindType === 'policy' && policyByName(acl, name, scopes)) t.Policies.push({ ID: '', Name: name });
    else if (rule.BindType === 'templated-policy') {
      const v = rule.BindVars?.name;
      t.TemplatedPolicies.push({ TemplateName: name, ...(v ? { TemplateVariables: { name: interpolate(v, vars) } } : {}) });
    }
  }
  if (Object.values(t).every((l) => l.length === 0)) throw permissionDenied('no binding rule matched');
  const ttl = method.MaxTokenTTL ? parseGoDuration(method.MaxTokenTTL) ?? 0 : 0;
  return {
    ...t, Local: method.TokenLocality !== 'global',
    Description: `token created via login${meta && Object.keys(meta).length ? `: ${JSON.stringify(meta)}` : ''}`,
    ...(ttl > 0 ? { ExpirationTTL: ttl } : {}),
  };
}
