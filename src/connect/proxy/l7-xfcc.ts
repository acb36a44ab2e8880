// The x-forwarded-client-cert element the public listener adds to each request of an http
// service, as Envoy does with the settings Consul gives it (APPEND_FORWARD with Subject, Cert,
// Chain, DNS and URI): By (this proxy's URI), Hash, Cert, Chain, Subject, URI, DNS.
import { createHash, X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate } from 'node:tls';
import { certUris } from './tls-peer.ts';

/** The header's name. */
export const XFCC = 'x-forwarded-client-cert';

function pem(raw: Buffer): string {
  const b64 = raw.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** A subject in RFC 2253 form (last RDN first, comma-separated, specials escaped), as Envoy prints it. */
export function rfc2253(subject: string): string {
  const escape = (v: string) => v.replace(/[,+"\\<>;]/g, '\\$&').replace(/^[ #]/, '\\$&').replace(/ $/, '\\ ');
  return subject.split('\n').filter(Boolean).reverse().map((rdn) => {
    const i = rdn.indexOf('=');
    return `${rdn.slice(0, i)}=${escape(rdn.slice(i + 1))}`;
  }).join(',');
}

/**
 * The element for a client `cert` (with its issuers, as getPeerCertificate(true) gives them) seen
 * by the proxy whose URI is `by`. The chain is the client's certificate and the intermediates up
 * to, not including, the self-signed root.
 */
export function xfccElement(by: string, cert: DetailedPeerCertificate): string {
  if (!cert.raw) return '';
  const parts = [`By=${by}`, `Hash=${createHash('sha256').update(cert.raw).digest('hex')}`, `Cert="${encodeURIComponent(pem(cert.raw))}"`];
  let chain = '';
  const seen = new Set<DetailedPeerCertificate>();
  for (let c: DetailedPeerCertificate | undefined = cert; c?.raw && !seen.has(c); c = c.issuerCertificate) {
    seen.add(c);
    if (c !== cert && c.issuerCertificate === c) break;
    chain += pem(c.raw);
  }
  parts.push(`Chain="${encodeURIComponent(chain)}"`);
  let subject = '';
  try {
    subject = rfc2253(new X509Certificate(cert.raw).subject ?? '');
  } catch {
    // An unparsable certificate could not have passed the handshake; the subject stays empty.
  }
  parts.push(`Subject="${subject.replace(/"/g, '\\"')}"`);
  const uri = certUris(cert)[0];
  if (uri) parts.push(`URI=${uri}`);
  for (const m of (cert.subjectaltname ?? '').matchAll(/(?:^|, )DNS:([^,]*)/g)) parts.push(`DNS=${m[1]}`);
  return parts.join(';');
}

/** APPEND_FORWARD: the client's own header (if any) with this element after it. */
export function appendXfcc(existing: string | string[] | undefined, element: string): string {
  if (!element) return Array.isArray(existing) ? existing.join(',') : existing ?? '';
  const before = Array.isArray(existing) ? existing.join(',') : existing;
  return before ? `${before},${element}` : element;
}
