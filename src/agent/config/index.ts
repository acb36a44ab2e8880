// Public surface of the agent configuration loader.
export { loadConfig, type LoadOptions, type LoadResult } from './load.ts';
export { agentFlagDefs } from './flags.ts';
export { ConfigError } from './error.ts';
export { implementedKeys } from './implemented.ts';
export type { RuntimeConfig, ListenAddr } from './runtime.ts';
export { parseSource, parseText, type Source, type ParsedSource } from './parse.ts';
export { sourcesFromPath } from './sources.ts';
