// Prepared query templates (Consul's prepared_query/template.go and walk.go): every string of a
// template's Service part is parsed as a HIL interpolation once, then rendered per looked-up name
// with the only variables Consul defines (name.full, name.prefix, name.suffix, agent.segment)
// and the match(N) function over the template's Regexp. The HIL subset here is what those allow:
// `${...}` holding a variable, a call, a quoted string or an integer; `$${` is a literal `${`.
import type { PreparedQueryRecord, ServiceQuery } from '../state/index.ts';

/** Consul's only template type. */
export const NAME_PREFIX_MATCH = 'name_prefix_match';

type Expr =
  | { kind: 'var'; name: string }
  | { kind: 'call'; fn: string; args: Expr[] }
  | { kind: 'str'; value: string }
  | { kind: 'int'; value: number };

type Part = string | Expr;

/** Where a template is rendered from (Consul's QuerySource, as far as templates read it). */
export interface TemplateSource {
  segment: string;
}

/** A template ready to render: the query, its parsed strings and its regexp. */
export interface CompiledTemplate {
  query: PreparedQueryRecord;
  trees: Map<string, Part[]>;
  re: RegExp | null;
}

/** True when the query is a template. */
export function isTemplate(q: Pick<PreparedQueryRecord, 'Template'>): boolean {
  return q.Template.Type !== '';
}

/** Parses one HIL string into literal text and expressions; throws with HIL-like messages. */
export function parseHil(src: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  let i = 0;
  while (i < src.length) {
    if (src.startsWith('$${', i)) {
      text += '${';
      i += 3;
    } else if (src.startsWith('${', i)) {
      if (text) parts.push(text), (text = '');
      const p = new ExprParser(src, i + 2);
      parts.push(p.expr());
      p.skipSpace();
      if (src[p.pos] !== '}') throw new Error(`parse error at ${p.pos + 1}: expected "}"`);
      i = p.pos + 1;
    } else text += src[i++];
  }
  if (text || parts.length === 0) parts.push(text);
  return parts;
}

class ExprParser {
  readonly src: string;
  pos: number;

  constructor(src: string, pos: number) {
    this.src = src;
    this.pos = pos;
  }

  skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.pos++;
  }

  expr(): Expr {
    this.skipSpace();
    const s = this.src;
    if (this.pos >= s.length) throw new Error('parse error: unterminated interpolation');
    const c = s[this.pos];
    if (c === '"') return this.#string();
    const num = /^-?\d+/.exec(s.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return { kind: 'int', value: Number(num[0]) };
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(s.slice(this.pos));
    if (!id) throw new Error(`parse error at ${this.pos + 1}: unexpected ${JSON.stringify(c)}`);
    this.pos += id[0].length;
    this.skipSpace();
    if (s[this.pos] !== '(') return { kind: 'var', name: id[0] };
    this.pos++;
    const args: Expr[] = [];
    this.skipSpace();
    if (s[this.pos] === ')') return this.pos++, { kind: 'call', fn: id[0], args };
    for (;;) {
      args.push(this.expr());
      this.skipSpace();
      const d = s[this.pos++];
      if (d === ')') return { kind: 'call', fn: id[0], args };
      if (d !== ',') throw new Error(`parse error at ${this.pos}: expected "," or ")"`);
    }
  }

  #string(): Expr {
    const s = this.src;
    let out = '';
    this.pos++;
    while (this.pos < s.length && s[this.pos] !== '"') {
      if (s[this.pos] === '\\' && this.pos + 1 < s.length) this.pos++;
      out += s[this.pos++];
    }
    if (s[this.pos] !== '"') throw new Error('parse error: unterminated string');
    this.pos++;
    return { kind: 'str', value: out };
  }
}

interface Scope {
  vars: Record<string, string>;
  matches: string[] | null;
}

function evalExpr(e: Expr, scope: Scope): string | number {
  switch (e.kind) {
    case 'str':
    case 'int':
      return e.value;
    case 'var': {
      const v = scope.vars[e.name];
      if (v === undefined) throw new Error(`unknown variable accessed: ${e.name}`);
      return v;
    }
    case 'call': {
      if (e.fn !== 'match') throw new Error(`unknown function called: ${e.fn}`);
      if (e.args.length !== 1) throw new Error(`match: expected 1 arguments, got ${e.args.length}`);
      const n = evalExpr(e.args[0], scope);
      if (typeof n !== 'number') throw new Error('match: argument 1 should be type int, got type string');
      return scope.matches && n >= 0 && n < scope.matches.length ? scope.matches[n] ?? '' : '';
    }
  }
}

function evalParts(parts: Part[], scope: Scope): string | number {
  if (parts.length === 1 && typeof parts[0] !== 'string') return evalExpr(parts[0], scope);
  return parts.map((p) => (typeof p === 'string' ? p : String(evalExpr(p, scope)))).join('');
}

type Visit = (path: string, value: string) => string;

/** Visits every string of a Service part (Consul's walk over ServiceQuery), replacing each with what `visit` returns. */
export function walkService(svc: ServiceQuery, visit: Visit): ServiceQuery {
  const list = (path: string, l: string[] | null): string[] | null => l && l.map((v, i) => visit(`${path}[${i}]`, v));
  const map = (path: string, m: Record<string, string> | null): Record<string, string> | null =>
    m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, visit(`${path}[${k}]`, v)]));
  return {
    ...svc,
    Service: visit('.Service', svc.Service),
    SamenessGroup: visit('.SamenessGroup', svc.SamenessGroup),
    Failover: {
      NearestN: svc.Failover.NearestN,
      Datacenters: list('.Failover.Datacenters', svc.Failover.Datacenters),
      Targets: svc.Failover.Targets && svc.Failover.Targets.map((t, i) => ({
        ...t,
        Peer: visit(`.Failover.Targets[${i}].Peer`, t.Peer), Datacenter: visit(`.Failover.Targets[${i}].Datacenter`, t.Datacenter),
      })),
    },
    IgnoreCheckIDs: list('.IgnoreCheckIDs', svc.IgnoreCheckIDs),
    Near: visit('.Near', svc.Near),
    Tags: list('.Tags', svc.Tags),
    NodeMeta: map('.NodeMeta', svc.NodeMeta),
    ServiceMeta: map('.ServiceMeta', svc.ServiceMeta),
    Peer: visit('.Peer', svc.Peer),
  };
}

/** Compiles a template (Consul's Compile): checks the type, parses every string and the regexp, and test-renders with the bare prefix. */
export function compileTemplate(query: PreparedQueryRecord): CompiledTemplate {
  if (query.Template.Type !== NAME_PREFIX_MATCH) throw new Error(`Bad Template.Type '${query.Template.Type}'`);
  const trees = new Map<string, Part[]>();
  walkService(query.Service, (path, v) => {
    try {
      trees.set(path, parseHil(v));
    } catch (err) {
      throw new Error(`Bad format '${v}' in Service${path}: ${(err as Error).message}`);
    }
    return v;
  });
  let re: RegExp | null = null;
  if (query.Template.Regexp !== '') {
    try {
      // Go's named groups are spelled (?P<name>...); JavaScript's (?<name>...).
      re = new RegExp(query.Template.Regexp.replaceAll('(?P<', '(?<'));
    } catch (err) {
      throw new Error(`Bad Regexp: ${(err as Error).message}`);
    }
  }
  const ct: CompiledTemplate = { query: structuredClone(query), trees, re };
  renderTemplate(ct, query.Name, { segment: '' });
  return ct;
}

/** Renders a compiled template for a looked-up name (Consul's Render). */
export function renderTemplate(ct: CompiledTemplate, name: string, source: TemplateSource): PreparedQueryRecord {
  const q = ct.query;
  const m = ct.re ? ct.re.exec(name) : null;
  const scope: Scope = {
    vars: {
      'name.full': name,
      'name.prefix': q.Name,
      'name.suffix': name.startsWith(q.Name) ? name.slice(q.Name.length) : name,
      'agent.segment': source.segment,
    },
    matches: m ? [...m].map((s) => s ?? '') : null,
  };
  const service = walkService(q.Service, (path, v) => {
    const tree = ct.trees.get(path);
    if (!tree) return v;
    let res: string | number;
    try {
      res = evalParts(tree, scope);
    } catch (err) {
      throw new Error(`Bad evaluation for '${v}' in Service${path}: ${(err as Error).message}`);
    }
    if (typeof res !== 'string') throw new Error(`Expected Service${path} field to be a string, got TypeInt`);
    return res;
  });
  if (q.Template.RemoveEmptyTags && service.Tags) service.Tags = service.Tags.filter((t) => t !== '');
  return { ...structuredClone(q), Service: service };
}
