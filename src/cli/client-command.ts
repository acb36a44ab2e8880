// The frame of a command that calls the agent: parse its flags, open the HTTP client, run the
// body and close the client; a failed step ends the command with its text on stderr and exit 1.

import { ApiError, type ConsulClient } from '../api/index.ts';
import type { FlagDef, ParsedFlags } from './flags.ts';
import { openClient } from './http-flags.ts';
import { parseCommandFlags, ui, type CliIO } from './io.ts';

/** How a failed step reads: a prefix for the error's message, or the whole text made from the error. */
export type FailureText = string | ((err: Error) => string);

/** The error's own message, as the text of a failed step. */
export const asIs = (err: Error): string => err.message;

/** A failure text that says `missing` when the server answered 404, else `<what>: <message>`. */
export function missingOr(missing: string, what: string): (err: Error) => string {
  return (err) => (err instanceof ApiError && err.statusCode === 404 ? missing : `${what}: ${err.message}`);
}

/** A step that failed; the command frame prints its message and exits 1. */
export class StepFailure extends Error {}

function failureText(what: FailureText, err: unknown): string {
  return typeof what === 'string' ? `${what}: ${(err as Error).message}` : what(err as Error);
}

/** Awaits `fn`; a failure becomes a StepFailure reading `<what>: <message>` (or `what(err)`). */
export async function step<T>(what: FailureText, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new StepFailure(failureText(what, err));
  }
}

/**
 * Opens the client from parsed flags, runs `body` and closes the client. Exit 1 when the client
 * does not open or a step fails; any other failure of the body is printed as `what` says, or
 * thrown on when `what` is not given.
 */
export async function withClient(
  flags: ParsedFlags, io: CliIO, body: (client: ConsulClient) => Promise<number>, what?: FailureText,
): Promise<number> {
  const client = openClient(flags, io);
  if (!client) return 1;
  try {
    return await body(client);
  } catch (err) {
    if (err instanceof StepFailure) return fail(io, err.message);
    if (what === undefined) throw err;
    return fail(io, failureText(what, err));
  } finally {
    client.close();
  }
}

/** Parses the command's flags (exit 1 on a bad one), then runs `body` as withClient does. */
export async function runWithClient(
  defs: FlagDef[], args: string[], io: CliIO, body: (client: ConsulClient, flags: ParsedFlags) => Promise<number>, what?: FailureText,
): Promise<number> {
  const flags = parseCommandFlags(defs, args, io);
  if (!flags) return 1;
  return withClient(flags, io, (client) => body(client, flags), what);
}

/** Prints `text` on stderr; exit 1. */
export function fail(io: CliIO, text: string): number {
  ui(io).error(text);
  return 1;
}
