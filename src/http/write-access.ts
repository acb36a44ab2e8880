// http_config.allow_write_http_from as Consul's checkWriteAccess applies it: the connection's own
// address (never X-Forwarded-For) against each CIDR with Go's net.IPNet.Contains (src/cidr.ts).
import { cidrMatcher } from '../cidr.ts';

/**
 * The check of a client address against allow_write_http_from, or null when writes are open to
 * all (no entries). Malformed entries were refused when the configuration was built; here they match nothing.
 */
export function writeAccess(cidrs: string[] | undefined): ((remoteAddr: string) => boolean) | null {
  return cidrMatcher(cidrs);
}
