// node:http and node:https as their CommonJS module objects, for every value Proconsul takes from
// them (types still come from `import type`). An `import … from 'node:http'` makes Node build the
// module's ES facade, which reads every export, and its lazy WebSocket/CloseEvent/MessageEvent
// getters then load Node's bundled undici (nodejs/node#57649): ≈45 ms of CPU on every start of
// every command, for classes Proconsul never uses. process.getBuiltinModule skips the facade.

/** The node:http module. */
export const nodeHttp = process.getBuiltinModule('node:http');
/** The node:https module. */
export const nodeHttps = process.getBuiltinModule('node:https');
