// The health check runners' public surface: definitions and validation, createCheckRunner,
// the StatusHandler, and the injectable seams (command runner, alias source).
export {
  checkKind, validateCheckType, outputMaxSize, scriptArgs, isPolledKind, MIN_INTERVAL_MS, DEFAULT_OUTPUT_MAX_SIZE,
  type CheckType, type CheckKind, type CheckStatus, type UpdateFn,
} from './types.ts';
export { createCheckRunner, isTtlRunner, type CheckRunner, type TtlCheckRunner, type CheckRunnerDeps } from './runner.ts';
export { createStatusHandler, type StatusHandler, type StatusHandlerOptions } from './status-handler.ts';
export type { CommandRunner, CommandOptions, CommandResult } from './command.ts';
export { aliasStatus, ALIAS_REFRESH_MS, type AliasSource, type AliasTarget, type AliasCheckInfo } from './alias.ts';
export { type TtlControl } from './ttl.ts';
export { type Lifecycle } from './schedule.ts';
export { createTailBuffer, type TailBuffer } from './output.ts';
