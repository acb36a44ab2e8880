// The agent's ACL tokens (Consul's token.Store): set at runtime through /v1/agent/token/:type
// under Consul's names and legacy aliases, persisted to `<data_dir>/acl-tokens.json` when
// acl.enable_token_persistence is on, and loaded from there at start.
import fs from 'node:fs';
import path from 'node:path';

/** The token kinds the agent holds. */
export type TokenKind = 'default' | 'agent' | 'agent_recovery' | 'replication' | 'config_file_service_registration' | 'dns';

// Consul's AgentToken switch: current names and their legacy aliases.
const ALIASES: Record<string, TokenKind> = {
  default: 'default', acl_token: 'default',
  agent: 'agent', acl_agent_token: 'agent',
  agent_recovery: 'agent_recovery', agent_master: 'agent_recovery', acl_agent_master_token: 'agent_recovery',
  replication: 'replication', acl_replication_token: 'replication',
  config_file_service_registration: 'config_file_service_registration',
  dns: 'dns', dns_token: 'dns',
};

/** The token kind a `/v1/agent/token/:type` name means, or undefined when Consul would 404. */
export function tokenKind(name: string): TokenKind | undefined {
  return Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
}

const FILE = 'acl-tokens.json';

/** Runtime ACL tokens of this agent. */
export class TokenStore {
  readonly #tokens = new Map<TokenKind, string>();
  #file: string | undefined;

  /** `initial` comes from the config; `dataDir` enables persistence. */
  constructor(initial: Partial<Record<TokenKind, string>>, dataDir: string | undefined) {
    for (const [k, v] of Object.entries(initial)) if (v) this.#tokens.set(k as TokenKind, v);
    this.#file = dataDir ? path.join(dataDir, FILE) : undefined;
    if (this.#file && fs.existsSync(this.#file)) {
      const saved = JSON.parse(fs.readFileSync(this.#file, 'utf8')) as Record<string, string>;
      for (const [k, v] of Object.entries(saved)) if (tokenKind(k) && v) this.#tokens.set(tokenKind(k)!, v);
    }
  }

  /** The token of a kind ('' when unset). */
  get(kind: TokenKind): string {
    return this.#tokens.get(kind) ?? '';
  }

  /** Starts persisting to `<dataDir>/acl-tokens.json` (ACLs enabled at runtime), saving the current tokens now. */
  persistIn(dataDir: string): void {
    this.#file = path.join(dataDir, FILE);
    this.#save();
  }

  /** Sets a token; returns whether it changed. Persists when enabled. */
  set(kind: TokenKind, token: string): boolean {
    const changed = this.get(kind) !== token;
    this.#tokens.set(kind, token);
    this.#save();
    return changed;
  }

  #save(): void {
    if (!this.#file) return;
    fs.mkdirSync(path.dirname(this.#file), { recursive: true });
    fs.writeFileSync(this.#file, JSON.stringify(Object.fromEntries(this.#tokens)), { mode: 0o600 });
  }
}
