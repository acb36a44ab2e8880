// Proconsul's package entry point for in-process use: build, start and stop a full agent.
export { createAgent, type Agent, type AgentBase, type AgentDeps } from './agent/agent.ts';
export { createClientAgent, type ClientAgent } from './agent/client.ts';
export type { RuntimeConfig, ListenAddr } from './agent/config/runtime.ts';
export { ManualClock, systemClock, type Clock } from './clock.ts';
export { loadConfig, type LoadOptions, type LoadResult } from './agent/config/index.ts';
