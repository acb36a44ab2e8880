// How the license commands print a licence: Go's time.Time String() for its times, and the
// `license get` and `license inspect` layouts of Consul Enterprise's documentation.
import type { License, LicenseReply } from '../api/operator-license.ts';

/** An RFC 3339 UTC time as Go's time.Time.String() prints it ("2019-05-22 03:59:59.999 +0000 UTC"). */
export function goTimeString(rfc3339: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(rfc3339);
  if (!m) return rfc3339;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 UTC`;
}

const list = (items: string[]) => items.map((s) => `\t${s}`);

/** `license get`: validity, then the licence's identity, expiry, package and features. */
export function licenseGetText(r: LicenseReply): string {
  const l = r.License;
  return [
    r.Valid ? 'License is valid' : 'License is invalid',
    ...r.Warnings.map((w) => `Warning: ${w}`),
    `License ID: ${l.license_id}`,
    `Customer ID: ${l.customer_id}`,
    `Expires At: ${goTimeString(l.expiration_time)}`,
    `Datacenter: ${l.installation_id}`,
    `Package: ${String(l.flags?.package ?? '')}`,
    'Licensed Features:',
    ...list(l.features ?? []),
  ].join('\n');
}

/** `license inspect`: the source, every field of the licence, then its validity. */
export function licenseInspectText(source: string, l: License, valid: boolean): string {
  return [
    `Source: ${source}`,
    `Product: ${l.product}`,
    `License ID: ${l.license_id}`,
    `Customer ID: ${l.customer_id}`,
    `Installation ID: ${l.installation_id}`,
    `Issue Time: ${goTimeString(l.issue_time)}`,
    `Start Time: ${goTimeString(l.start_time)}`,
    `Expiration Time: ${goTimeString(l.expiration_time)}`,
    `Termination Time: ${goTimeString(l.termination_time)}`,
    'Modules:',
    ...list(l.modules ?? []),
    'Features:',
    ...list(l.features ?? []),
    '',
    valid ? 'License is valid' : 'License is invalid',
  ].join('\n');
}
