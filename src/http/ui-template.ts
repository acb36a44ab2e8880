// The runtime settings Consul injects into a UI build's index.html (agent/uiserver): the data
// (ui_template_data.go), the older `__RUNTIME_BOOL_x__` / `__RUNTIME_STRING_x__` placeholders in
// URL-encoded JSON, and the subset of Go's text/template that Consul UI builds use: `{{.Field}}`,
// `{{jsonEncode .}}`, `{{ jsonEncodeAndEscape .UIConfig }}`, `{{if}}…{{else}}…{{end}}` and
// `{{range}}…{{end}}`, with `{{-`/`-}}` trimming. Anything else fails, as Go's parser would.

/** What the index template is rendered from, keyed as Consul's template data. */
export type UiTemplateData = Record<string, unknown>;

/** The settings an index is rendered with. */
export interface UiTemplateSettings {
  contentPath: string;
  aclsEnabled: boolean;
  datacenter: string;
  primaryDatacenter: string;
  peeringEnabled: boolean;
  metricsProvider: string;
  metricsProviderFiles: string[];
  metricsProviderOptionsJson: string;
  metricsProxyEnabled: boolean;
  dashboardUrlTemplates: Record<string, string>;
}

/** Where Consul serves the concatenated metrics provider files, under the content path. */
export const COMPILED_PROVIDER_JS = 'assets/compiled-metrics-providers.js';

/** Consul's uiTemplateDataFromConfig (the CE transform adds nothing). */
export function uiTemplateData(s: UiTemplateSettings): UiTemplateData {
  const ui: Record<string, unknown> = {
    metrics_provider: s.metricsProvider,
    // Never the proxy settings themselves: add_headers may carry the backend's credentials.
    metrics_proxy_enabled: s.metricsProxyEnabled,
    // A Go map left unset marshals as null.
    dashboard_url_templates: Object.keys(s.dashboardUrlTemplates).length ? s.dashboardUrlTemplates : null,
    hcp_enabled: false,
  };
  if (s.metricsProviderOptionsJson !== '') ui.metrics_provider_options = new RawJson(s.metricsProviderOptionsJson);
  const d: UiTemplateData = {
    ContentPath: s.contentPath, ACLsEnabled: s.aclsEnabled, HCPEnabled: false, UIConfig: ui,
    LocalDatacenter: s.datacenter, PrimaryDatacenter: s.primaryDatacenter || s.datacenter, PeeringEnabled: s.peeringEnabled,
  };
  if (s.metricsProviderFiles.length > 0) d.ExtraScripts = [s.contentPath + COMPILED_PROVIDER_JS];
  return d;
}

/** A JSON text encoded as it is (Go's json.RawMessage): compacted and HTML-escaped, its key order and number text kept. */
export class RawJson {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const goEscape = (json: string): string => json.replace(HTML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Go's json.Marshal: map keys sorted, `<`, `>` and `&` escaped; `indent` as MarshalIndent's. */
export function goJson(v: unknown, indent = ''): string {
  const compact = marshal(v);
  return indent ? goIndent(compact, indent) : compact;
}

function marshal(v: unknown): string {
  if (v instanceof RawJson) return compactJson(v.text);
  if (Array.isArray(v)) return `[${v.map(marshal).join(',')}]`;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${goEscape(JSON.stringify(k))}:${marshal(o[k])}`).join(',')}}`;
  }
  return goEscape(JSON.stringify(v));
}

/** Go's json.Compact with HTML escaping, as the encoder writes a RawMessage. */
function compactJson(src: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inString) {
      if (c === '\\') {
        out += c + src[++i];
        continue;
      }
      if (c === '"') inString = false;
      out += goEscape(c);
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (c === '"') inString = true;
    out += c;
  }
  return out;
}

/** Go's json.Indent of compact JSON (no prefix): empty objects and arrays stay `{}` and `[]`. */
function goIndent(src: string, indent: string): string {
  let out = '';
  let depth = 0;
  let needIndent = false;
  let inString = false;
  const newline = () => `\n${indent.repeat(depth)}`;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (inString) {
      if (c === '\\') {
        out += c + src[++i];
        continue;
      }
      if (c === '"') inString = false;
      out += c;
      continue;
    }
    if (needIndent && c !== ']' && c !== '}') {
      needIndent = false;
      depth++;
      out += newline();
    }
    if (c === '"') inString = true;
    if (c === '{' || c === '[') {
      needIndent = true;
      out += c;
    } else if (c === ',') out += c + newline();
    else if (c === ':') out += ': ';
    else if (c === '}' || c === ']') {
      if (needIndent) needIndent = false;
      else {
        depth--;
        out += newline();
      }
      out += c;
    } else out += c;
  }
  return out;
}

const PATH_SAFE = /[A-Za-z0-9\-_.~$&+:=@]/;

/** Go's url.PathEscape: every byte but unreserved ones and `$&+:=@` as %XX. */
export function goPathEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && PATH_SAFE.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const RUNTIME = /%22(?:%2F)?__RUNTIME_(BOOL|STRING)_([A-Za-z0-9_-]+)__(?:%2F)?%22/g;

/** The older builds' placeholders inside URL-encoded JSON: a JSON bool, or a JSON string escaped again. */
function replaceRuntime(content: string, data: UiTemplateData): string {
  return content.replace(RUNTIME, (_m, type: string, key: string) => {
    const v = data[key];
    if (type === 'BOOL') return v === true ? 'true' : 'false';
    return typeof v === 'string' ? goPathEscape(JSON.stringify(v)) : '""';
  });
}

type Node =
  | { t: 'text'; s: string }
  | { t: 'out'; expr: string }
  | { t: 'if'; expr: string; then: Node[]; else: Node[] }
  | { t: 'range'; expr: string; body: Node[]; else: Node[] };

/** A template Go's parser would refuse, or one using what this subset lacks. */
export class UiTemplateError extends Error {}

/** Renders an index.html with Consul's template data. */
export function renderUiIndex(content: string, data: UiTemplateData): string {
  const nodes = parse(tokenize(replaceRuntime(content, data)));
  return exec(nodes, data, data);
}

function tokenize(src: string): { text?: string; action?: string }[] {
  const out: { text?: string; action?: string }[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push({ text: src.slice(i) });
      break;
    }
    const close = src.indexOf('}}', open + 2);
    if (close < 0) throw new UiTemplateError('unclosed action');
    let text = src.slice(i, open);
    let inner = src.slice(open + 2, close);
    if (/^-\s/.test(inner)) {
      text = text.trimEnd();
      inner = inner.slice(1);
    }
    let next = close + 2;
    if (/\s-$/.test(inner)) {
      inner = inner.slice(0, -1);
      const rest = src.slice(next);
      next += rest.length - rest.trimStart().length;
    }
    out.push({ text }, { action: inner.trim() });
    i = next;
  }
  return out;
}

function parse(tokens: { text?: string; action?: string }[]): Node[] {
  let pos = 0;
  const block = (closers: string[]): { nodes: Node[]; closer: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++];
      if (tok.text !== undefined) {
        if (tok.text !== '') nodes.push({ t: 'text', s: tok.text });
        continue;
      }
      const a = tok.action!;
      if (a.startsWith('/*') && a.endsWith('*/')) continue;
      const [word, ...rest] = a.split(/\s+/);
      if (closers.includes(word)) return { nodes, closer: word };
      if (word === 'if' || word === 'range') {
        const body = block(['else', 'end']);
        const alt = body.closer === 'else' ? block(['end']).nodes : [];
        const expr = rest.join(' ');
        nodes.push(word === 'if' ? { t: 'if', expr, then: body.nodes, else: alt } : { t: 'range', expr, body: body.nodes, else: alt });
        continue;
      }
      if (['else', 'end', 'with', 'define', 'template', 'block'].includes(word)) throw new UiTemplateError(`unexpected {{${word}}}`);
      nodes.push({ t: 'out', expr: a });
    }
    if (closers.length) throw new UiTemplateError('unexpected EOF');
    return { nodes, closer: '' };
  };
  return block([]).nodes;
}

function field(expr: string, dot: unknown): unknown {
  if (expr === '.') return dot;
  if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(expr)) throw new UiTemplateError(`unsupported expression ${expr}`);
  let v: unknown = dot;
  for (const name of expr.slice(1).split('.')) {
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[name] : undefined;
  }
  return v;
}

function evaluate(expr: string, dot: unknown): unknown {
  const [fn, ...args] = expr.split(/\s+/);
  if (fn === 'jsonEncode' && args.length === 1) return goJson(field(args[0], dot), '  ');
  if (fn === 'jsonEncodeAndEscape' && args.length === 1) return goPathEscape(goJson(field(args[0], dot)));
  if (args.length) throw new UiTemplateError(`function ${JSON.stringify(fn)} not defined`);
  return field(fn, dot);
}

/** Go's truth: false, 0, nil and empty strings, slices and maps are false. */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return !!v;
}

function print(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(print).join(' ')}]`;
  return String(v);
}

function exec(nodes: Node[], dot: unknown, root: UiTemplateData): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'out') out += print(evaluate(n.expr, dot));
    else if (n.t === 'if') out += exec(truthy(evaluate(n.expr, dot)) ? n.then : n.else, dot, root);
    else {
      const v = evaluate(n.expr, dot);
      const items = Array.isArray(v) ? v : v !== null && typeof v === 'object' ? Object.values(v) : [];
      out += items.length ? items.map((item) => exec(n.body, item, root)).join('') : exec(n.else, dot, root);
    }
  }
  return out;
}
