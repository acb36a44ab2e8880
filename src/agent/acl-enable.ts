// Turning ACLs on while the agent runs (beyond Consul, for `proconsul acl init` without a restart):
// enforcement switches to default_policy deny, the built-in policies and anonymous token are
// created, token persistence starts, and the setting is saved in the data dir for the next start.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { AclResolver } from '../endpoint/index.ts';
import type { TokenStore } from './local/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';

/** The file under the data dir that keeps a runtime-enabled ACL setting across restarts. */
export const ACL_RUNTIME_FILE = 'acl-runtime.json';

/** What enabling answered: the setting now in force and whether it was saved. */
export interface AclEnableResult {
  Enabled: true;
  DefaultPolicy: 'allow' | 'deny';
  /** ACLs were already on: nothing changed. */
  AlreadyEnabled: boolean;
  /** Saved under the data dir (false without one: the next start has ACLs off again). */
  Persisted: boolean;
}

// The saved setting is applied both to the typed config and to the raw merged config, where
// acl.enable_token_persistence is read by the local agent.
function turnOn(config: RuntimeConfig): void {
  config.acl.enabled = true;
  config.acl.defaultPolicy = 'deny';
  const raw = (config.raw.acl ?? {}) as Record<string, unknown>;
  config.raw.acl = { ...raw, enabled: true, default_policy: 'deny', enable_token_persistence: true };
}

/** Applies a setting saved by an earlier runtime enable; call before the agent is built. */
export function applyPersistedAcl(config: RuntimeConfig): void {
  if (!config.dataDir || config.acl.enabled) return;
  const file = path.join(config.dataDir, ACL_RUNTIME_FILE);
  if (!fs.existsSync(file)) return;
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { enabled?: unknown };
  if (saved.enabled === true) turnOn(config);
}

/** What the switch changes. */
export interface AclSwitchDeps {
  config: RuntimeConfig;
  resolver: AclResolver;
  tokens: TokenStore;
  /** Creates the built-in policies and the anonymous token (idempotent). */
  bootstrap(): Promise<void>;
  /** Starts leader-only ACL duties (the expired-token reaper) if this server leads. */
  leaderDuties(): void;
  logger: Logger;
}

/** Turns ACL enforcement on at runtime, once. */
export class AclSwitch {
  readonly #d: AclSwitchDeps;

  constructor(deps: AclSwitchDeps) {
    this.#d = deps;
  }

  /** Whether ACLs are enforced now. */
  get enabled(): boolean {
    return this.#d.resolver.enabled;
  }

  /** Enables ACLs with default_policy deny and saves the setting; a no-op when they are on. */
  async enable(): Promise<AclEnableResult> {
    const { config, resolver } = this.#d;
    if (resolver.enabled) return { Enabled: true, DefaultPolicy: resolver.defaultPolicy, AlreadyEnabled: true, Persisted: false };
    // The built-ins first: the moment enforcement starts, anonymous requests must meet a token.
    await this.#d.bootstrap();
    turnOn(config);
    resolver.enable('deny');
    let persisted = false;
    if (config.dataDir) {
      fs.mkdirSync(config.dataDir, { recursive: true });
      const saved = { enabled: true, default_policy: 'deny', enable_token_persistence: true };
      fs.writeFileSync(path.join(config.dataDir, ACL_RUNTIME_FILE), JSON.stringify(saved), { mode: 0o600 });
      this.#d.tokens.persistIn(config.dataDir);
      persisted = true;
    }
    this.#d.leaderDuties();
    this.#d.logger.info({ defaultPolicy: 'deny', persisted }, 'ACLs enabled at runtime');
    return { Enabled: true, DefaultPolicy: 'deny', AlreadyEnabled: false, Persisted: persisted };
  }
}

/** Whether a peer address is the local host (127.0.0.0/8 or ::1, also IPv4-mapped). */
export function isLoopback(addr: string): boolean {
  const ip = addr.replace(/^::ffff:/i, '');
  return ip === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}
