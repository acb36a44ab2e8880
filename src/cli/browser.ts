// Opening a URL in the user's browser for `proconsul login -type=oidc`, with the platform's
// opener (open, xdg-open, start); failures are silent because the URL is printed anyway.
// node:child_process is taken when a browser is opened: every command imports this file.

/** Launches the platform's URL opener detached from this process. */
export function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]]
    : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replaceAll('&', '^&')]]
      : ['xdg-open', [url]];
  try {
    const child = process.getBuiltinModule('node:child_process').spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No opener on this machine: the printed URL is the way in.
  }
}
