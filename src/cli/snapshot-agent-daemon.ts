// The snapshot agent's work (Consul Enterprise's automated backups, open here): register as a
// service with a TTL "alive" check, contend for the `consul-snapshot/lock` KV lock, and while
// holding it save a verified snapshot every interval as `consul-<unix ns>.snap` into the storage
// backend (local directory or S3), rotating to `retain`.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ConsulClient, Lock } from '../api/index.ts';
import { systemClock, type Clock } from '../clock.ts';
import { formatGoDuration } from '../duration.ts';
import { saveVerified } from './snapshot-save.ts';
import type { SnapshotAgentSettings } from './snapshot-agent-config.ts';
import type { SnapshotStorage } from './snapshot-agent-storage.ts';

/** Dependencies of a snapshot agent. */
export interface SnapshotAgentDeps {
  client: ConsulClient;
  settings: SnapshotAgentSettings;
  /** Where snapshots go (local directory or S3). */
  storage: SnapshotStorage;
  /** Where log lines go (Consul's `[INFO] Saved snapshot …`). */
  log(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR', message: string): void;
  clock?: Clock;
  /** TTL of the alive check in ms (default 30 s; it is refreshed every third of it). */
  aliveTtlMs?: number;
  /**
   * Lock session TTL (default the API's 15s) and lock-delay in ms (default 1: handover at once;
   * 0 would be left out of the session request, as Go's api does, and get the server's 15s).
   */
  lockSessionTTL?: string;
  lockDelayMs?: number;
}

/** One snapshot agent instance. */
export class SnapshotAgent {
  readonly #d: SnapshotAgentDeps;
  readonly #clock: Clock;
  /** This instance's service ID; several agents may register with one Consul agent. */
  readonly serviceId: string;
  #lastId = 0n;

  constructor(deps: SnapshotAgentDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
    this.serviceId = `${deps.settings.service}-${randomBytes(4).toString('hex')}`;
  }

  /** Takes one verified snapshot, hands it to the storage and rotates; resolves to the snapshot ID. */
  async saveOnce(): Promise<string> {
    const { settings, client, storage, log } = this.#d;
    await fs.mkdir(storage.scratchDir, { recursive: true });
    const id = this.#nextId();
    const file = path.join(storage.scratchDir, `consul-${id}.snap`);
    await saveVerified(client, file, settings.stale);
    const where = await storage.store(id, file);
    log('DEBUG', `Stored snapshot ${id} at ${where}`);
    if (settings.retain > 0) {
      const deleted = await storage.prune(settings.retain);
      if (deleted > 0) log('DEBUG', `Rotated out ${deleted} old snapshot(s), keeping ${settings.retain}`);
    }
    return id;
  }

  // Unix nanoseconds, strictly increasing within the process so names sort by age.
  #nextId(): string {
    const now = BigInt(this.#clock.now()) * 1_000_000n;
    this.#lastId = now > this.#lastId ? now : this.#lastId + 1n;
    return this.#lastId.toString();
  }

  /** Runs until `stop` aborts: one snapshot and exit when the interval is 0. Resolves to an exit code. */
  async run(stop: AbortSignal): Promise<number> {
    const { log, settings } = this.#d;
    if (settings.interval === 0) {
      try {
        log('INFO', `Saved snapshot ${await this.saveOnce()}`);
        return 0;
      } catch (err) {
        log('ERROR', `Snapshot failed: ${(err as Error).message}`);
        return 1;
      }
    }
    await this.#register();
    log('INFO', 'Snapshot agent running');
    const alive = this.#keepAlive(stop);
    try {
      await this.#contend(stop);
      return 0;
    } finally {
      await alive;
      await this.#d.client.agent.serviceDeregister(this.serviceId).catch(() => undefined);
    }
  }

  async #register(): Promise<void> {
    const { settings, client } = this.#d;
    const ttl = this.#d.aliveTtlMs ?? 30_000;
    await client.agent.serviceRegister({
      ID: this.serviceId, Name: settings.service,
      Check: {
        CheckID: `${this.serviceId}:alive`, Name: 'Consul Snapshot Agent Alive', TTL: formatGoDuration(ttl), Status: 'passing',
        DeregisterCriticalServiceAfter: settings.deregisterAfter > 0 ? formatGoDuration(settings.deregisterAfter) : undefined,
      },
    });
  }

  // Refreshes the alive check every third of its TTL until stopped.
  async #keepAlive(stop: AbortSignal): Promise<void> {
    const every = (this.#d.aliveTtlMs ?? 30_000) / 3;
    while (await this.#sleep(every, stop)) {
      await this.#check(`${this.serviceId}:alive`, 'passing', 'Snapshot agent alive').catch((err: Error) => {
        this.#d.log('WARN', `Failed to update alive check: ${err.message}`);
      });
    }
  }

  #check(id: string, Status: string, Output: string): Promise<unknown> {
    return this.#d.client.request({ method: 'PUT', path: `/v1/agent/check/update/${encodeURIComponent(id)}`, json: { Status, Output } });
  }

  /** Waits for the lock, saves while holding it, and contends again after losing or giving it up. */
  async #contend(stop: AbortSignal): Promise<void> {
    const { client, settings, log } = this.#d;
    const lock: Lock = client.lockOpts({
      key: settings.lockKey, sessionName: 'Consul Snapshot Agent', sessionTTL: this.#d.lockSessionTTL,
      lockDelay: this.#d.lockDelayMs ?? 1, monitorRetries: 3, monitorRetryTime: 1_000, clock: this.#d.clock,
    });
    while (!stop.aborted) {
      log('INFO', 'Waiting to obtain leadership...');
      let lost: AbortSignal | null;
      try {
        lost = await lock.lock(stop);
      } catch (err) {
        log('ERROR', `Failed to obtain leadership: ${(err as Error).message}`);
        await this.#sleep(5_000, stop);
        continue;
      }
      if (!lost) break;
      log('INFO', 'Obtained leadership');
      const why = await this.#lead(lost, stop);
      await lock.unlock().catch(() => undefined);
      await client.request({ method: 'PUT', path: `/v1/agent/check/deregister/${encodeURIComponent(`${this.serviceId}:saving`)}` }).catch(() => undefined);
      if (why === 'lost') log('WARN', 'Lost leadership');
      if (why === 'failures') {
        log('ERROR', 'Too many snapshot failures, giving up leadership');
        await this.#sleep(Math.min(settings.interval, 10_000), stop);
      }
    }
  }

  /** Saves every interval while leading; says why it stopped. */
  async #lead(lost: AbortSignal, stop: AbortSignal): Promise<'lost' | 'stop' | 'failures'> {
    const { settings, log } = this.#d;
    const checkId = `${this.serviceId}:saving`;
    const ttl = formatGoDuration(Math.max(2 * settings.interval, 60_000));
    await this.#d.client.request({
      method: 'PUT', path: '/v1/agent/check/register',
      json: { ID: checkId, Name: 'Consul Snapshot Agent Saving Snapshots', ServiceID: this.serviceId, TTL: ttl, Status: 'passing' },
    }).catch((err: Error) => log('WARN', `Failed to register the saving check: ${err.message}`));
    let failures = 0;
    const either = AbortSignal.any([lost, stop]);
    for (;;) {
      if (stop.aborted) return 'stop';
      if (lost.aborted) return 'lost';
      try {
        const id = await this.saveOnce();
        failures = 0;
        log('INFO', `Saved snapshot ${id}`);
        await this.#check(checkId, 'passing', `Saved snapshot ${id}`).catch(() => undefined);
      } catch (err) {
        failures++;
        log('ERROR', `Snapshot failed (${failures}/${settings.maxFailures}): ${(err as Error).message}`);
        await this.#check(checkId, 'critical', (err as Error).message).catch(() => undefined);
        if (failures >= settings.maxFailures) return 'failures';
      }
      await this.#sleep(settings.interval, either);
    }
  }

  /** Waits `ms` on the clock; false when `signal` aborted first. */
  #sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => { timer.cancel(); resolve(false); };
      const timer = this.#clock.setTimer(ms, () => { signal.removeEventListener('abort', onAbort); resolve(true); });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
