// The web UI (Consul's agent/uiserver and HTTPHandlers.Index): `/` redirects to the content path
// when the UI is on, files of ui_config.dir are served under the content path with the rendered
// index.html for every path that is no file (the UI is a single-page app), and the configured
// metrics provider scripts are served concatenated. Proconsul bundles no UI build: without a dir,
// every UI path answers 404 with a short page saying how to point the agent at one.
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { HttpResult } from './router.ts';
import type { HttpRequest } from './request.ts';
import { COMPILED_PROVIDER_JS, renderUiIndex, uiTemplateData, type UiTemplateSettings } from './ui-template.ts';
import { fileVersion, nodeUiFs, UiFileCache, type UiFs } from './ui-files.ts';

export type { UiFs } from './ui-files.ts';

/** What the UI server reads; settings are read per request (ACLs can be enabled at run time). */
export interface UiServerDeps {
  /** Whether the UI is served (ui_config.enabled, or a dir given). */
  served: boolean;
  /** ui_config.dir now ('' when none); read per request, a reload may change it. */
  dir: () => string;
  contentPath: string;
  settings: () => UiTemplateSettings;
  logger: Logger;
  /** The file system (default node:fs/promises). */
  fs?: UiFs;
}

const DISABLED = 'Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.';
const HTML = 'text/html; charset=utf-8';

/** The page served under the content path when the UI is on but no ui_config.dir is given. */
export function noUiPage(contentPath: string): string {
  return '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Proconsul: no web UI</title></head><body>\n'
    + '<h1>No web UI files configured</h1>\n'
    + '<p>Proconsul does not bundle a web UI. To serve the Consul web UI, point the agent at a Consul UI build '
    + '(the <code>dist</code> directory of <code>ui/packages/consul-ui</code>) with <code>ui_config { dir = "…" }</code> '
    + `or <code>-ui-dir</code>; it is then served here, at <code>${contentPath}</code>.</p>\n`
    + '<p>The HTTP API is available under <code>/v1/</code>.</p>\n</body></html>\n';
}

const TYPES: Record<string, string> = {
  '.html': HTML, '.htm': HTML, '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.ico': 'image/vnd.microsoft.icon',
  '.webp': 'image/webp', '.woff': 'font/woff', '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.otf': 'font/otf',
  '.txt': 'text/plain; charset=utf-8', '.xml': 'text/xml; charset=utf-8', '.wasm': 'application/wasm', '.pdf': 'application/pdf',
};

function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Go's http.FileServer answer for a file: Last-Modified, and 304 when If-Modified-Since covers it. */
function fileAnswer(req: HttpRequest, body: Buffer | string, type: string, mtime: Date): HttpResult {
  const modified = new Date(Math.floor(mtime.getTime() / 1000) * 1000);
  const since = req.headers['if-modified-since'];
  if (typeof since === 'string' && !Number.isNaN(Date.parse(since)) && modified.getTime() <= Date.parse(since)) {
    return { status: 304, headers: { 'Last-Modified': modified.toUTCString() } };
  }
  return { raw: body, contentType: type, headers: { 'Last-Modified': modified.toUTCString() } };
}

/** Go's localRedirect: a relative 301 keeping the request's query. */
function localRedirect(req: HttpRequest, to: string): HttpResult {
  const q = req.url?.indexOf('?') ?? -1;
  const query = q >= 0 && q < req.url!.length - 1 ? req.url!.slice(q) : '';
  return { status: 301, headers: { Location: to + query } };
}

/** The UI routes' handlers; `contentPath` is where `serve` is mounted. */
export function uiHandlers(d: UiServerDeps) {
  const fs = d.fs ?? nodeUiFs;
  const files = new UiFileCache(fs);
  const stat = async (file: string): Promise<import('node:fs').Stats | null> => {
    try {
      return await fs.stat(file);
    } catch {
      return null;
    }
  };
  // The index as last rendered: again only when its file or the settings it shows change.
  let rendered: { key: string; html: string } | null = null;
  const rootDir = (): string => (d.dir() === '' ? '' : path.resolve(d.dir()));
  const misconfigured = (err: unknown): HttpResult => {
    d.logger.error({ err }, 'Failed to configure UI server');
    return { status: 500, raw: 'UI server is misconfigured.\n', contentType: 'text/plain; charset=utf-8' };
  };
  /** The rendered index.html, or null when the dir has none (then nothing falls back to it, as in Consul). */
  const index = async (req: HttpRequest, root: string): Promise<HttpResult | null> => {
    const file = path.join(root, 'index.html');
    const st = await stat(file);
    if (!st?.isFile()) return null;
    const data = uiTemplateData(d.settings());
    const key = `${file}\0${fileVersion(st)}\0${JSON.stringify(data)}`;
    if (rendered?.key !== key) rendered = { key, html: renderUiIndex((await files.read(file, st)).toString('utf8'), data) };
    return fileAnswer(req, rendered.html, HTML, st.mtime);
  };
  const providers = async (): Promise<HttpResult> => {
    const names = d.settings().metricsProviderFiles;
    if (names.length === 0) return { status: 404, raw: 'No provider JS files configured\n', contentType: 'text/plain; charset=utf-8' };
    const parts: string[] = [];
    for (const f of names) {
      try {
        parts.push(`// ${path.basename(f)}\n\n${(await files.read(f, await fs.stat(f))).toString('utf8')}\n\n`);
      } catch (err) {
        d.logger.error({ file: f, err }, 'failed serving metrics provider js file');
        return { status: 500, raw: 'Internal Server Error\n', contentType: 'text/plain; charset=utf-8' };
      }
    }
    return { raw: parts.join(''), contentType: 'application/javascript' };
  };
  const serveFile = async (req: HttpRequest, rest: string, root: string): Promise<HttpResult> => {
    const name = `/${rest}`;
    // Go's FileServer sends …/index.html to its directory.
    if (name.endsWith('/index.html')) return localRedirect(req, './');
    const file = path.resolve(root, `.${name}`);
    if (file !== root && !file.startsWith(root + path.sep)) return { status: 404, raw: '404 page not found\n', contentType: 'text/plain; charset=utf-8' };
    const st = await stat(file);
    if (st?.isDirectory() && !name.endsWith('/')) return localRedirect(req, `${path.posix.basename(name)}/`);
    if (st?.isFile() && name.endsWith('/')) return localRedirect(req, `../${path.posix.basename(name)}`);
    if (st?.isFile()) return fileAnswer(req, await files.read(file, st), contentType(file), st.mtime);
    // A directory's own index.html, else the app's: every other path is a route of the UI.
    if (st?.isDirectory() && file !== root) {
      const own = path.join(file, 'index.html');
      const ist = await stat(own);
      if (ist?.isFile()) return fileAnswer(req, await files.read(own, ist), HTML, ist.mtime);
    }
    const app = await index(req, root);
    if (app) return app;
    if (file === root) d.logger.warn('ui_config.dir does not contain an index.html. Index templating and redirects to index.html are disabled.');
    return { status: 404, raw: '404 page not found\n', contentType: 'text/plain; charset=utf-8' };
  };
  const serve = async (req: HttpRequest, rest: string): Promise<HttpResult> => {
    if (rest.replace(/^\/+/, '') === COMPILED_PROVIDER_JS) return providers();
    const root = rootDir();
    if (root === '') return { status: 404, raw: noUiPage(d.contentPath), contentType: HTML };
    try {
      return await serveFile(req, rest, root);
    } catch (err) {
      return misconfigured(err);
    }
  };
  return {
    contentPath: d.contentPath,
    served: d.served,
    /** GET / (Consul's Index). */
    async index(_req: HttpRequest): Promise<HttpResult> {
      if (!d.served) return { raw: DISABLED, contentType: 'text/plain; charset=utf-8' };
      return { status: 301, headers: { Location: d.contentPath }, raw: `<a href="${d.contentPath}">Moved Permanently</a>.\n\n`, contentType: HTML };
    },
    /** Everything under the content path. */
    serve: (req: HttpRequest): Promise<HttpResult> => serve(req, req.params.rest),
    /** The content path without its trailing slash (Go's ServeMux redirects it to the subtree). */
    async bare(req: HttpRequest): Promise<HttpResult> {
      const q = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      return { status: 301, headers: { Location: d.contentPath + q }, raw: `<a href="${d.contentPath}">Moved Permanently</a>.\n\n`, contentType: HTML };
    },
    /** /robots.txt, served from the UI files as Consul does. */
    robots: (req: HttpRequest): Promise<HttpResult> => serve(req, 'robots.txt'),
  };
}

/** The UI handlers' type, as the route table takes them. */
export type UiHandlers = ReturnType<typeof uiHandlers>;
