// Ownership and mode of a unix socket listener, as Consul's setFilePermissions applies
// unix_sockets.user, group and mode: the user by ID or name, the group by ID only, the mode in
// octal; an unset user or group is the process's own, an unset mode leaves the mode alone.
import fs from 'node:fs';

/** unix_sockets settings carried by a unix listener address. */
export interface SocketPermissions {
  user?: string;
  group?: string;
  mode?: string;
}

const DECIMAL = /^[+-]?\d+$/;

/** The uid of a user name from the passwd file (what Go's os/user does without cgo), or undefined. */
export function passwdUid(name: string, passwd = '/etc/passwd'): number | undefined {
  let text = '';
  try {
    text = fs.readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid] = line.split(':');
    if (user === name && uid !== undefined && DECIMAL.test(uid)) return Number(uid);
  }
  return undefined;
}

/** Go's text for a failed syscall: `chown <path>: operation not permitted`. */
function syscallText(op: string, path: string, err: unknown): string {
  const m = /^[A-Z]+: ([^,]+),/.exec((err as Error).message);
  return `${op} ${path}: ${m ? m[1] : (err as Error).message}`;
}

/** Applies `p` to the file at `path`; throws Consul's texts. */
export function setFilePermissions(path: string, p: SocketPermissions, lookupUid: (name: string) => number | undefined = passwdUid): void {
  let uid = process.getuid?.() ?? -1;
  let gid = process.getgid?.() ?? -1;
  if (p.user) {
    const byName = DECIMAL.test(p.user) ? Number(p.user) : lookupUid(p.user);
    if (byName === undefined) throw new Error(`failed to look up user ${p.user}: user: unknown user ${p.user}`);
    uid = byName;
  }
  if (p.group) {
    if (!DECIMAL.test(p.group)) throw new Error(`invalid group specified: ${p.group}`);
    gid = Number(p.group);
  }
  try {
    fs.chownSync(path, uid, gid);
  } catch (err) {
    throw new Error(`failed setting ownership to ${uid}:${gid} on ${JSON.stringify(path)}: ${syscallText('chown', path, err)}`);
  }
  if (!p.mode) return;
  // Consul reports the shadowed, zero-valued parse result, hence the literal 0.
  if (!/^[+]?[0-7]+$/.test(p.mode)) throw new Error('invalid mode specified: 0');
  const mode = parseInt(p.mode, 8);
  try {
    fs.chmodSync(path, mode);
  } catch (err) {
    throw new Error(`failed setting permissions to ${mode} on ${JSON.stringify(path)}: ${syscallText('chmod', path, err)}`);
  }
}
