// config_entries.bootstrap as Consul's builder reads it: each entry decoded, normalized and
// validated at start-up, so a bad entry stops the agent instead of failing later on the leader.
import { checkConfigEntry, decodeConfigEntry } from '../../endpoint/config-entries.ts';
import { ConfigError } from './error.ts';
import type { TreeReader } from './values.ts';

/** The bootstrap entries as written (the leader applies them through the config entry endpoint). */
export function readBootstrapEntries(r: TreeReader): Record<string, unknown>[] {
  const raw = r.get('config_entries.bootstrap');
  const entries = Array.isArray(raw) ? raw : [];
  entries.forEach((entry, i) => {
    let msg: string | null;
    try {
      const decoded = decodeConfigEntry(entry);
      msg = checkConfigEntry(String(decoded.Kind), decoded);
    } catch (err) {
      // The endpoint's text carries the HTTP API's prefix; Consul's builder reports the decode error itself.
      msg = (err as Error).message.replace(/^Request decoding failed: /, '');
    }
    if (msg !== null) throw new ConfigError(`config_entries.bootstrap[${i}]: ${msg}`);
  });
  return entries as Record<string, unknown>[];
}
