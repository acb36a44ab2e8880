// Persistence of API-registered services and checks in the data dir, in Consul's layout:
// `services/<sha256(id)>` ({Token, Service, Source, LocallyRegisteredAsSidecar}), `checks/<sha256(id)>` ({Check, ChkType,
// Token, Source}) and `checks/state/<sha256(id)>` (TTL status until it would have expired).
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { CheckType } from '../checks/index.ts';
import type { LocalService } from './definition.ts';
import { checkKeyOf, serviceKeyOf, type ConfigSource, type LocalCheck } from './state.ts';

/** A persisted service file. */
export interface PersistedService {
  Token: string;
  Service: LocalService;
  Source: ConfigSource;
}

/** A persisted check file; ChkType durations are Go nanoseconds as Consul writes them. */
export interface PersistedCheck {
  Check: LocalCheck;
  ChkType: CheckType | null;
  Token: string;
  Source: ConfigSource;
}

/** A persisted TTL check state; Expires is Unix seconds. */
export interface PersistedCheckState {
  CheckID: string;
  Status: string;
  Output: string;
  Expires: number;
}

const DURATIONS = ['Interval', 'Timeout', 'TTL', 'DeregisterCriticalServiceAfter'] as const;

/** Consul's file name for an ID (sha256 hex of the ID). */
export function idHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function writeAtomic(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function readDir<T>(dir: string, onError: (file: string, err: unknown) => void): T[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    if (name.endsWith('tmp') || !fs.statSync(file).isFile()) continue;
    try {
      out.push(JSON.parse(fs.readFileSync(file, 'utf8')) as T);
    } catch (err) {
      onError(file, err);
    }
  }
  return out;
}

function convert(t: CheckType | null, factor: number): CheckType | null {
  if (!t) return null;
  const out: CheckType = { ...t };
  for (const k of DURATIONS) if (out[k]) out[k] = out[k]! * factor;
  return out;
}

/** Reads and writes the agent's persisted registrations under one data dir. */
export class Persistence {
  readonly #dir: string;
  readonly #onError: (file: string, err: unknown) => void;

  constructor(dataDir: string, onError: (file: string, err: unknown) => void) {
    this.#dir = dataDir;
    this.#onError = onError;
  }

  #service(id: string): string { return path.join(this.#dir, 'services', idHash(id)); }
  #check(id: string): string { return path.join(this.#dir, 'checks', idHash(id)); }
  #state(id: string): string { return path.join(this.#dir, 'checks', 'state', idHash(id)); }

  /** Writes a service definition. */
  saveService(p: PersistedService): void {
    // The sidecar flag sits beside the service, as in Consul's persistedService (NodeService never serializes it).
    const { LocallyRegisteredAsSidecar: sidecar, ...service } = p.Service;
    writeAtomic(this.#service(serviceKeyOf(p.Service)), { Token: p.Token, Service: service, Source: p.Source, ...(sidecar ? { LocallyRegisteredAsSidecar: true } : {}) });
  }

  /** Removes a service definition. */
  purgeService(id: string): void {
    fs.rmSync(this.#service(id), { force: true });
  }

  /** Writes a check definition. */
  saveCheck(p: PersistedCheck): void {
    writeAtomic(this.#check(checkKeyOf(p.Check)), { ...p, ChkType: convert(p.ChkType, 1e6) });
  }

  /** Removes a check definition and its TTL state. */
  purgeCheck(id: string): void {
    fs.rmSync(this.#check(id), { force: true });
    fs.rmSync(this.#state(id), { force: true });
  }

  /** Writes a TTL check's last status. */
  saveCheckState(s: PersistedCheckState): void {
    writeAtomic(this.#state(s.CheckID), s);
  }

  /** A TTL check's persisted status if it has not expired (`nowSeconds`); expired states are purged. */
  loadCheckState(id: string, nowSeconds: number): PersistedCheckState | undefined {
    const file = this.#state(id);
    try {
      const s = JSON.parse(fs.readFileSync(file, 'utf8')) as PersistedCheckState;
      if (nowSeconds < s.Expires) return s;
    } catch {
      return undefined;
    }
    fs.rmSync(file, { force: true });
    return undefined;
  }

  /** Every persisted service. */
  services(): PersistedService[] {
    return readDir<PersistedService & { LocallyRegisteredAsSidecar?: boolean }>(path.join(this.#dir, 'services'), this.#onError)
      .filter((p) => p?.Service?.ID)
      .map(({ LocallyRegisteredAsSidecar: sidecar, ...p }) => (sidecar ? { ...p, Service: { ...p.Service, LocallyRegisteredAsSidecar: true } } : p));
  }

  /** Every persisted check, durations back in milliseconds. */
  checks(): PersistedCheck[] {
    return readDir<PersistedCheck>(path.join(this.#dir, 'checks'), this.#onError)
      .filter((p) => p?.Check?.CheckID)
      .map((p) => ({ ...p, ChkType: convert(p.ChkType, 1e-6) }));
  }
}
