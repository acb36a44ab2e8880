// Help text rendering as Consul's CLI does it: the top-level command list (mitchellh/cli's
// BasicHelpFunc), a command's help with "HTTP API Options" / "Command Options" sections
// (command/flags/usage.go) and Go flag's PrintDefaults after a flag error.

import type { FlagDef } from './flags.ts';
import type { Command } from './io.ts';
import { HTTP_FLAG_NAMES } from './http-flag-defs.ts';

/** `Usage: proconsul [--version] [--help] <command> [<args>]` plus the aligned command list. */
export function topUsage(commands: readonly Pick<Command, 'name' | 'synopsis'>[]): string {
  const width = Math.max(0, ...commands.map((c) => c.name.length));
  const lines = [...commands]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((c) => `    ${c.name.padEnd(width)}    ${c.synopsis}\n`);
  return `Usage: proconsul [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n${lines.join('')}`;
}

/** A command's full help: usage text, option sections and any subcommands; ends with a newline. */
export function commandHelp(cmd: Command, subcommands: readonly Pick<Command, 'name' | 'synopsis'>[]): string {
  let out = usageWithFlags(cmd.help, cmd.flags);
  if (subcommands.length) {
    const prefix = `${cmd.name} `;
    const sorted = [...subcommands].sort((a, b) => (a.name < b.name ? -1 : 1));
    const width = Math.max(...sorted.map((c) => c.name.length - prefix.length));
    out += '\n\nSubcommands:';
    for (const s of sorted) out += `\n    ${s.name.slice(prefix.length).padEnd(width)}    ${s.synopsis}`;
  }
  return `${out}\n`;
}

/** command/flags/usage.go: trimmed usage, then HTTP API options, then command options, sorted. */
export function usageWithFlags(help: string, flags: FlagDef[]): string {
  let out = `${help.trim()}\n\n`;
  const sorted = [...flags].sort((a, b) => (a.name < b.name ? -1 : 1));
  const http = sorted.filter((f) => HTTP_FLAG_NAMES.has(f.name));
  const own = sorted.filter((f) => !HTTP_FLAG_NAMES.has(f.name));
  if (http.length) out += `HTTP API Options\n\n${http.map(flagEntry).join('')}`;
  if (own.length) out += `Command Options\n\n${own.map(flagEntry).join('')}`;
  return out.replace(/\n+$/, '');
}

function flagEntry(f: FlagDef): string {
  const { name, usage } = unquoteUsage(f);
  const head = name ? `  -${f.name}=<${name}>\n` : `  -${f.name}\n`;
  return `${head}${wrap(usage, 72 - 5).map((l) => `     ${l}`).join('\n')}\n\n`;
}

/** Go's flag.UnquoteUsage: a back-quoted word in the usage names the value, else the kind does. */
export function unquoteUsage(f: FlagDef): { name: string; usage: string } {
  const m = /`([^`]*)`/.exec(f.usage);
  if (m) return { name: m[1], usage: f.usage.replace(/`([^`]*)`/, '$1') };
  if (f.placeholder !== undefined) return { name: f.placeholder, usage: f.usage };
  const byKind: Record<FlagDef['kind'], string> = { bool: '', string: 'string', int: 'int', uint: 'uint', duration: 'duration', list: 'value' };
  return { name: byKind[f.kind], usage: f.usage };
}

/** Word-wraps with minimal raggedness, as github.com/kr/text.Wrap does (words never split). */
export function wrap(s: string, lim: number): string[] {
  const words = s.trim().replaceAll('\n', ' ').split(' ');
  const n = words.length;
  const len = (i: number, j: number): number => words.slice(i, j + 1).reduce((a, w) => a + w.length, 0) + (j - i);
  const cost = new Array<number>(n).fill(Number.MAX_SAFE_INTEGER);
  const brk = new Array<number>(n).fill(n);
  for (let i = n - 1; i >= 0; i--) {
    if (len(i, n - 1) <= lim || i === n - 1) {
      cost[i] = 0;
      continue;
    }
    for (let j = i + 1; j < n; j++) {
      const l = len(i, j - 1);
      // Overlong lines carry a large penalty so they are chosen only when unavoidable.
      const c = (lim - l) ** 2 + cost[j] + (l > lim ? 100_000 : 0);
      if (c < cost[i]) {
        cost[i] = c;
        brk[i] = j;
      }
    }
  }
  const lines: string[] = [];
  for (let i = 0; i < n; i = brk[i]) lines.push(words.slice(i, brk[i]).join(' '));
  return lines;
}

/** Go flag's PrintDefaults, printed after `Usage:` when a flag does not parse. */
export function goFlagDefaults(flags: FlagDef[]): string {
  const sorted = [...flags].sort((a, b) => (a.name < b.name ? -1 : 1));
  return sorted.map((f) => {
    const { name, usage } = unquoteUsage(f);
    let line = `  -${f.name}${name ? ` ${name}` : ''}`;
    line += line.length <= 4 ? '\t' : '\n    \t';
    line += usage.replaceAll('\n', '\n    \t');
    const d = f.default;
    if (d !== undefined && d !== '' && d !== false && d !== 0 && !(Array.isArray(d) && d.length === 0)) {
      line += f.kind === 'string' ? ` (default ${JSON.stringify(d)})` : ` (default ${String(d)})`;
    }
    return `${line}\n`;
  }).join('');
}
