// node:http, node:https and node:http2 as their CommonJS module objects, for every value Proconsul
// takes from them (types still come from `import type`). An `import … from 'node:http'` makes Node build the
// module's ES facade, which reads every export, and its lazy WebSocket/CloseEvent/MessageEvent
// getters then load Node's bundled undici (nodejs/node#57649): ≈45 ms of CPU on every start of
// every command, for classes Proconsul never uses. process.getBuiltinModule skips the facade.

/** The node:http module. */
export const nodeHttp = process.getBuiltinModule('node:http');
/** The node:https module. */
export const nodeHttps = process.getBuiltinModule('node:https');

/** The node:http2 module, loaded on first call: only HTTPS listeners and h2ping checks use it (≈8 ms to load). */
export function nodeHttp2(): typeof import('node:http2') {
  return process.getBuiltinModule('node:http2');
}
