// Framing every gossip message for the wire: a kind byte, then plaintext, AES-GCM ciphertext
// from the keyring, or (streams only) a plaintext error the peer should see. Also enforces
// encrypt_verify_incoming / encrypt_verify_outgoing for rolling enablement.
import type { Keyring } from './keyring.ts';

const PLAIN = 0;
const SEALED = 1;
const ERROR = 2;

/** Encryption settings shared by packets and streams. */
export interface WireSecurity {
  keyring: Keyring | undefined;
  verifyIncoming: boolean;
  verifyOutgoing: boolean;
}

/** A failure the remote end reported on a stream. */
export class RemoteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteError';
  }
}

/** Frames `data` for sending: encrypted with the primary key when encryption is on. */
export function seal(sec: WireSecurity, data: Buffer): Buffer {
  if (sec.keyring && sec.verifyOutgoing) {
    return Buffer.concat([Buffer.of(SEALED), sec.keyring.encrypt(data, aad(SEALED))]);
  }
  return Buffer.concat([Buffer.of(PLAIN), data]);
}

/** Frames an error that the peer reads without needing our keys. */
export function sealError(message: string): Buffer {
  return Buffer.concat([Buffer.of(ERROR), Buffer.from(message)]);
}

/** Unframes received bytes, decrypting as needed; throws with the reason it cannot. */
export function open(sec: WireSecurity, buf: Buffer): Buffer {
  const kind = buf[0];
  const body = buf.subarray(1);
  if (kind === ERROR) throw new RemoteError(body.toString('utf8'));
  if (kind === PLAIN) {
    if (sec.keyring && sec.verifyIncoming) throw new Error('Encryption is configured but remote state is not encrypted');
    return body;
  }
  if (kind === SEALED) {
    if (!sec.keyring) throw new Error('Remote state is encrypted and encryption is not configured');
    return sec.keyring.decrypt(body, aad(SEALED));
  }
  throw new Error(`unknown gossip frame kind ${kind}`);
}

function aad(kind: number): Buffer {
  return Buffer.from(`proconsul-gossip-v1:${kind}`);
}
