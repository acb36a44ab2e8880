// `proconsul partition`: the parent of the admin partition subcommands (Consul Enterprise's
// command/partition); on its own it prints its help (exit 1). Also the printers the
// subcommands share (the -format, -show-meta and definition helpers are the namespace ones).

import type { Partition } from '../api/partitions.ts';
import { field, parseDefinition, prettyJson } from './namespace.ts';
import { RUN_RESULT_HELP, type Command } from './io.ts';

function partitionBody(p: Partition, showMeta: boolean, indent: string): string {
  let s = `${indent}Description:\n${p.Description ? `${indent}   ${p.Description}\n` : ''}`;
  if (p.DeletedAt) s += `${indent}Deleted At: ${p.DeletedAt}\n`;
  if (showMeta) s += `${indent}Create Index: ${p.CreateIndex ?? 0}\n${indent}Modify Index: ${p.ModifyIndex ?? 0}\n`;
  return s;
}

/** A partition, pretty or JSON. */
export function formatPartition(p: Partition, format: string, showMeta: boolean): string {
  if (format === 'json') return prettyJson(p);
  return `Name: ${p.Name}\n${partitionBody(p, showMeta, '')}`.replace(/\n$/, '');
}

/** A partition list, pretty (each name a heading) or JSON. */
export function formatPartitionList(list: Partition[], format: string, showMeta: boolean): string {
  if (format === 'json') return prettyJson(list);
  return list.map((p) => `${p.Name}:\n${partitionBody(p, showMeta, '   ')}`).join('');
}

/** A partition definition (file or stdin, HCL or JSON) decoded into the API shape. */
export function partitionFromDefinition(data: string): Partition {
  const raw = parseDefinition(data);
  const s = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const description = s(field(raw, 'description'));
  return { Name: s(field(raw, 'name')), ...(description ? { Description: description } : {}), ...(field(raw, 'disablegossip') === true ? { DisableGossip: true } : {}) };
}

/** The `partition` command. */
export const partitionCommand: Command = {
  name: 'partition',
  synopsis: 'Interact with admin partitions',
  flags: [],
  help: `
Usage: proconsul partition <subcommand> [options] [args]

  This command has subcommands for interacting with Consul Enterprise
  admin partitions. Here are some simple examples. More detailed
  examples are available in the subcommands or the documentation.

  Create an admin partition

    $ proconsul partition create -name team1

  Create or Update an admin partition from its full definition:

    $ proconsul partition write part1

  Read an admin partition:

    $ proconsul partition read team1

  List all admin partitions:

    $ proconsul partition list

  Update an admin partition

    $ proconsul partition update -name team1 -description "first partition"

  Delete an admin partition:

    $ proconsul partition delete team1

  For more examples, ask for subcommand help or view the documentation.
`,
  async run() {
    return RUN_RESULT_HELP;
  },
};
