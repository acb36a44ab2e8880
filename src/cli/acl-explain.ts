// `proconsul acl explain` (beyond Consul): asks /v1/acl/explain whether the token given with
// -token may perform -access on -resource and prints the decision and the rule behind it.
import type { ExplainAnswer } from '../endpoint/acl-explain.ts';
import { ACL_HTTP_FLAGS, runAcl } from './acl-flags.ts';
import type { CliIO, Command } from './io.ts';

/** Renders the deciding rule on one line: where it came from, then the rule itself. */
export function describeRule(a: ExplainAnswer): string {
  const r = a.Rule;
  if (r.Source === 'management') return 'management (global-management policy)';
  if (r.Source === 'default policy') return 'default policy (no rule matched)';
  const from = [
    r.Role ? `role "${r.Role.Name}"` : '',
    r.Policy ? `policy "${r.Policy.Name}"` : '',
    r.Identity ? `${r.Source} ${r.Identity}` : '',
  ].filter((s) => s !== '').join(' -> ');
  const kind = a.Resource.split(':')[0];
  const rule = r.Match === 'prefix' ? `${kind}_prefix "${r.Segment}"` : r.Segment ? `${kind} "${r.Segment}"` : kind;
  return `${from}: ${rule} = "${r.Level ?? ''}" (${r.Match} match)`;
}

/** The `acl explain` command. */
export const aclExplainCommand: Command = {
  name: 'acl explain',
  synopsis: 'Explain whether a token may access a resource, and which rule decides',
  flags: [
    ...ACL_HTTP_FLAGS,
    { name: 'resource', kind: 'string', usage: 'The resource and segment, e.g. key:app/db, service:web or operator' },
    { name: 'access', kind: 'string', default: 'read', usage: 'The access level: read, list or write' },
    { name: 'format', kind: 'string', default: 'pretty', usage: 'Output format {pretty|json}' },
  ],
  help: `
Usage: proconsul acl explain [options] -resource=KIND:SEGMENT [-access=read|list|write]

  Answers allow or deny for the token given with -token (or CONSUL_HTTP_TOKEN)
  and names what decided it: the policy and the role it came through, the
  service or node identity, the management policy or the default policy.

      $ proconsul acl explain -token=5b6f… -resource=key:app/db -access=write
      Decision:   allow
      Resource:   key:app/db
      Access:     write
      AccessorID: 3c0b…
      Rule:       role "dev" -> policy "app-writer": key "app/db" = "write" (exact match)
`,
  run(args: string[], io: CliIO): Promise<number> {
    return runAcl(this.flags, args, io, async (r) => {
      const resource = r.str('resource');
      if (resource === '') return r.fail('Missing required -resource flag (e.g. -resource=key:app/db)');
      let a: ExplainAnswer;
      try {
        const res = await r.client.request({ method: 'GET', path: '/v1/acl/explain', query: { resource, access: r.str('access') } });
        a = JSON.parse(res.body.toString('utf8')) as ExplainAnswer;
      } catch (err) {
        return r.fail(`Failed to explain access: ${(err as Error).message}`);
      }
      if (r.format === 'json') {
        r.info(JSON.stringify(a, null, 2));
        return 0;
      }
      r.info(`Decision:   ${a.Decision}\nResource:   ${a.Resource}\nAccess:     ${a.Access}\nAccessorID: ${a.AccessorID}\nRule:       ${describeRule(a)}`);
      return 0;
    });
  },
};
