// Output of the `acl` commands as Consul's command/acl/{token,policy,role}/formatter.go write it:
// `-format=pretty` aligned `Field:   value` lines (hash and indexes with -meta), `-format=json`
// indented with four spaces as Go's json.MarshalIndent.

import type {
  ACLLink, ACLNodeIdentity, ACLPolicy, ACLPolicyListStub, ACLRole, ACLServiceIdentity, ACLTemplatedPolicy, ACLToken,
  ACLTokenListStub,
} from '../acl/types.ts';

/** The formats every acl command accepts. */
export const ACL_FORMATS = ['pretty', 'json'] as const;

/** Go's `%v` of a time.Time decoded from RFC 3339 (`2024-05-01 10:00:00.5 +0000 UTC`). */
export function goTime(rfc3339: string | undefined): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(rfc3339 ?? '');
  if (!m) return rfc3339 ?? '';
  const frac = (m[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '');
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[4].replace(':', '')} ${m[4].replace(':', '')}`;
  return `${m[1]} ${m[2]}${frac} ${zone}`;
}

// Go prints the []byte hash with %x; the wire carries it in base64.
function hex(hash: string | undefined): string {
  return Buffer.from(hash ?? '', 'base64').toString('hex');
}

function links(title: string, items: ACLLink[] | undefined, pad: string): string {
  if (!items?.length) return '';
  return `${pad}${title}:\n${items.map((l) => `${pad}   ${l.ID} - ${l.Name ?? ''}\n`).join('')}`;
}

function identities(s: ACLServiceIdentity[] | undefined, n: ACLNodeIdentity[] | undefined, pad: string): string {
  let out = '';
  if (s?.length) {
    out += `${pad}Service Identities:\n`;
    for (const id of s) out += `${pad}   ${id.ServiceName} (Datacenters: ${id.Datacenters?.length ? id.Datacenters.join(', ') : 'all'})\n`;
  }
  if (n?.length) {
    out += `${pad}Node Identities:\n`;
    for (const id of n) out += `${pad}   ${id.NodeName} (Datacenter: ${id.Datacenter})\n`;
  }
  return out;
}

function templated(items: ACLTemplatedPolicy[] | undefined, pad: string): string {
  if (!items?.length) return '';
  let out = `${pad}Templated Policies:\n`;
  for (const t of items) {
    out += `${pad}   ${t.TemplateName ?? ''}\n`;
    if (t.TemplateVariables?.name) out += `${pad}      Name: ${t.TemplateVariables.name}\n`;
    out += `${pad}      Datacenters: ${t.Datacenters?.length ? t.Datacenters.join(', ') : 'all'}\n`;
  }
  return out;
}

function meta(x: { Hash: string; CreateIndex: number; ModifyIndex: number }, wide: boolean, pad = ''): string {
  const w = wide ? '      ' : '';
  return `${pad}Hash:         ${w}${hex(x.Hash)}\n${pad}Create Index: ${w}${x.CreateIndex}\n${pad}Modify Index: ${w}${x.ModifyIndex}\n`;
}

function tokenHead(t: ACLToken | ACLTokenListStub): string {
  let out = `AccessorID:       ${t.AccessorID}\nSecretID:         ${t.SecretID}\n`;
  if (t.Namespace) out += `Namespace:        ${t.Namespace}\n`;
  out += `Description:      ${t.Description}\nLocal:            ${t.Local}\n`;
  if (t.AuthMethod) out += `Auth Method:      ${t.AuthMethod} (Namespace: ${t.AuthMethodNamespace ?? ''})\n`;
  out += `Create Time:      ${goTime(t.CreateTime)}\n`;
  if (t.ExpirationTime) out += `Expiration Time:  ${goTime(t.ExpirationTime)}\n`;
  return out;
}

function tokenGrants(t: ACLToken | ACLTokenListStub): string {
  return links('Policies', t.Policies, '') + links('Roles', t.Roles, '') + identities(t.ServiceIdentities, t.NodeIdentities, '')
    + templated(t.TemplatedPolicies, '');
}

/** A token, pretty or JSON. */
export function formatToken(t: ACLToken, format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(t, null, 4);
  return tokenHead(t) + (showMeta ? meta(t, true) : '') + tokenGrants(t);
}

/** A token list, pretty (entries separated by a blank line) or JSON. */
export function formatTokenList(list: ACLTokenListStub[], format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(list, null, 4);
  return list.map((t) => `${tokenHead(t)}Legacy:           ${t.Legacy === true}\n${showMeta ? meta(t, true) : ''}${tokenGrants(t)}`).join('\n');
}

/** A policy, pretty (ending in its rules) or JSON. */
export function formatPolicy(p: ACLPolicy, format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(p, null, 4);
  let out = `ID:           ${p.ID}\nName:         ${p.Name}\n`;
  if (p.Namespace) out += `Namespace:    ${p.Namespace}\n`;
  out += `Description:  ${p.Description}\nDatacenters:  ${(p.Datacenters ?? []).join(', ')}\n`;
  if (showMeta) out += meta(p, false);
  return `${out}Rules:\n${p.Rules}`;
}

/** A policy list, pretty (`name:` then indented fields) or JSON. */
export function formatPolicyList(list: ACLPolicyListStub[], format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(list, null, 4);
  return list.map((p) => {
    let out = `${p.Name}:\n   ID:           ${p.ID}\n`;
    if (p.Namespace) out += `   Namespace:    ${p.Namespace}\n`;
    out += `   Description:  ${p.Description}\n   Datacenters:  ${(p.Datacenters ?? []).join(', ')}\n`;
    return out + (showMeta ? meta(p, false, '   ') : '');
  }).join('');
}

/** A role, pretty or JSON. */
export function formatRole(r: ACLRole, format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(r, null, 4);
  let out = `ID:           ${r.ID}\nName:         ${r.Name}\n`;
  if (r.Partition) out += `Partition:    ${r.Partition}\n`;
  if (r.Namespace) out += `Namespace:    ${r.Namespace}\n`;
  out += `Description:  ${r.Description}\n`;
  if (showMeta) out += meta(r, false);
  return out + links('Policies', r.Policies, '') + identities(r.ServiceIdentities, r.NodeIdentities, '') + templated(r.TemplatedPolicies, '');
}

/** A role list, pretty (`name:` then indented fields) or JSON. */
export function formatRoleList(list: ACLRole[], format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(list, null, 4);
  return list.map((r) => {
    let out = `${r.Name}:\n   ID:           ${r.ID}\n`;
    if (r.Partition) out += `   Partition:    ${r.Partition}\n`;
    if (r.Namespace) out += `   Namespace:    ${r.Namespace}\n`;
    out += `   Description:  ${r.Description}\n`;
    if (showMeta) out += meta(r, false, '   ');
    return out + links('Policies', r.Policies, '   ') + identities(r.ServiceIdentities, r.NodeIdentities, '   ')
      + templated(r.TemplatedPolicies, '   ');
  }).join('');
}
