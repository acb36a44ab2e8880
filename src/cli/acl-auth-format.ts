// Output of the `acl auth-method` and `acl binding-rule` commands as Consul's
// command/acl/{authmethod,bindingrule}/formatter.go write it: aligned `Field:  value` lines
// (indexes with -meta), the method Config as two-space JSON, `-format=json` with four spaces.
import type { ACLAuthMethod, ACLBindingRule } from '../acl/types.ts';
import type { ACLAuthMethodListEntry } from '../api/index.ts';

/** An auth method, pretty (ending in its Config) or JSON. */
export function formatAuthMethod(m: ACLAuthMethod, format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(m, null, 4);
  let out = `Name:          ${m.Name}\nType:          ${m.Type}\n`;
  if (m.Namespace) out += `Namespace:     ${m.Namespace}\n`;
  if (m.DisplayName) out += `DisplayName:   ${m.DisplayName}\n`;
  out += `Description:   ${m.Description ?? ''}\n`;
  if (m.MaxTokenTTL) out += `MaxTokenTTL:   ${m.MaxTokenTTL}\n`;
  if (m.TokenLocality) out += `TokenLocality: ${m.TokenLocality}\n`;
  if (m.NamespaceRules?.length) {
    out += 'NamespaceRules:\n';
    for (const r of m.NamespaceRules) out += `   Selector:      ${r.Selector}\n   BindNamespace: ${r.BindNamespace}\n`;
  }
  if (showMeta) out += `Create Index:  ${m.CreateIndex}\nModify Index:  ${m.ModifyIndex}\n`;
  return `${out}Config:\n${JSON.stringify(m.Config ?? null, null, 2)}`;
}

/** An auth method list, pretty (`name:` then indented fields) or JSON. */
export function formatAuthMethodList(list: ACLAuthMethodListEntry[], format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(list, null, 4);
  return list.map((m) => {
    let out = `${m.Name}:\n   Type:         ${m.Type}\n`;
    if (m.Namespace) out += `   Namespace:    ${m.Namespace}\n`;
    if (m.DisplayName) out += `   DisplayName:  ${m.DisplayName}\n`;
    out += `   Description:  ${m.Description ?? ''}\n`;
    if (showMeta) out += `   Create Index: ${m.CreateIndex}\n   Modify Index: ${m.ModifyIndex}\n`;
    return out;
  }).join('');
}

function ruleFields(r: ACLBindingRule, pad: string, showMeta: boolean): string {
  let out = '';
  if (r.Partition) out += `${pad}Partition:    ${r.Partition}\n`;
  if (r.Namespace) out += `${pad}Namespace:    ${r.Namespace}\n`;
  out += `${pad}AuthMethod:   ${r.AuthMethod}\n${pad}Description:  ${r.Description}\n`;
  out += `${pad}BindType:     ${r.BindType}\n${pad}BindName:     ${r.BindName}\n`;
  if (r.BindVars?.name) out += `${pad}BindVars:     \n${pad}     - Name: ${r.BindVars.name}\n`;
  out += `${pad}Selector:     ${r.Selector}\n`;
  if (showMeta) out += `${pad}Create Index: ${r.CreateIndex}\n${pad}Modify Index: ${r.ModifyIndex}\n`;
  return out;
}

/** A binding rule, pretty or JSON. */
export function formatBindingRule(r: ACLBindingRule, format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(r, null, 4);
  return `ID:           ${r.ID}\n${ruleFields(r, '', showMeta)}`;
}

/** A binding rule list, pretty (`id:` then indented fields) or JSON. */
export function formatBindingRuleList(list: ACLBindingRule[], format: string, showMeta: boolean): string {
  if (format === 'json') return JSON.stringify(list, null, 4);
  return list.map((r) => `${r.ID}:\n${ruleFields(r, '   ', showMeta)}`).join('');
}
