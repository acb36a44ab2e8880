// The gossip encryption keyring: a primary key that encrypts and extra keys that are tried on
// receive, as memberlist's keyring; AES-GCM (128/192/256 by key size) through node:crypto.
// Optionally persisted as a JSON array of base64 keys, primary first (Serf's local.keyring).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The error text receivers report when no key fits (memberlist's wording). */
export const NO_KEY_DECRYPTS = 'No installed keys could decrypt the message';

const NONCE = 12;
const TAG = 16;

/** Decodes and checks a base64 gossip key. */
export function decodeKey(b64: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64.trim())) throw new Error('Invalid key: illegal base64 data');
  const key = Buffer.from(b64.trim(), 'base64');
  if (![16, 24, 32].includes(key.length)) throw new Error('key size must be 16, 24 or 32 bytes');
  return key;
}

/** Generates a fresh 32-byte key, base64 encoded (`proconsul keygen`). */
export function generateKey(): string {
  return crypto.randomBytes(32).toString('base64');
}

/** The installed keys and which one is primary. */
export interface KeyList {
  keys: string[];
  primary: string;
}

/** A gossip keyring. */
export class Keyring {
  #keys: Buffer[];
  #file: string | undefined;

  /** Builds a keyring from base64 keys, primary first; `file` persists every change. */
  constructor(keys: string[], file?: string) {
    if (keys.length === 0) throw new Error('keyring needs at least one key');
    this.#keys = dedupe(keys.map(decodeKey));
    this.#file = file;
  }

  /** Loads a persisted keyring, or returns undefined when the file does not exist. */
  static load(file: string): Keyring | undefined {
    if (!fs.existsSync(file)) return undefined;
    const keys = JSON.parse(fs.readFileSync(file, 'utf8')) as string[];
    return new Keyring(keys, file);
  }

  /** Installed keys (base64), primary first. */
  list(): KeyList {
    const keys = this.#keys.map((k) => k.toString('base64'));
    return { keys, primary: keys[0] };
  }

  /** Adds a key for decryption; installing a present key is a no-op. */
  install(b64: string): void {
    const key = decodeKey(b64);
    if (!this.#keys.some((k) => k.equals(key))) this.#keys.push(key);
    this.#save();
  }

  /** Makes an installed key the primary (encrypting) key. */
  use(b64: string): void {
    const key = decodeKey(b64);
    const i = this.#keys.findIndex((k) => k.equals(key));
    if (i < 0) throw new Error('Requested key is not in the keyring');
    this.#keys.splice(i, 1);
    this.#keys.unshift(key);
    this.#save();
  }

  /** Removes a non-primary key. */
  remove(b64: string): void {
    const key = decodeKey(b64);
    if (this.#keys[0].equals(key)) throw new Error('Removing the primary key is not allowed');
    this.#keys = this.#keys.filter((k) => !k.equals(key));
    this.#save();
  }

  /** Encrypts with the primary key: nonce, tag, ciphertext. */
  encrypt(plain: Buffer, aad: Buffer): Buffer {
    const key = this.#keys[0];
    const nonce = crypto.randomBytes(NONCE);
    const c = crypto.createCipheriv(cipherName(key), key, nonce, { authTagLength: TAG });
    c.setAAD(aad);
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([nonce, c.getAuthTag(), body]);
  }

  /** Decrypts with whichever installed key fits; throws NO_KEY_DECRYPTS otherwise. */
  decrypt(sealed: Buffer, aad: Buffer): Buffer {
    if (sealed.length < NONCE + TAG) throw new Error(NO_KEY_DECRYPTS);
    const nonce = sealed.subarray(0, NONCE);
    const tag = sealed.subarray(NONCE, NONCE + TAG);
    const body = sealed.subarray(NONCE + TAG);
    for (const key of this.#keys) {
      try {
        const d = crypto.createDecipheriv(cipherName(key), key, nonce, { authTagLength: TAG });
        d.setAAD(aad);
        d.setAuthTag(tag);
        return Buffer.concat([d.update(body), d.final()]);
      } catch {
        // wrong key: try the next one
      }
    }
    throw new Error(NO_KEY_DECRYPTS);
  }

  /** Writes the keyring file now (no-op without a file). */
  persist(): void {
    this.#save();
  }

  #save(): void {
    if (!this.#file) return;
    fs.mkdirSync(path.dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(this.list().keys), { mode: 0o600 });
    fs.renameSync(tmp, this.#file);
  }
}

function cipherName(key: Buffer): crypto.CipherGCMTypes {
  return `aes-${key.length * 8}-gcm` as crypto.CipherGCMTypes;
}

function dedupe(keys: Buffer[]): Buffer[] {
  return keys.filter((k, i) => keys.findIndex((o) => o.equals(k)) === i);
}
