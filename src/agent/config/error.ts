// The configuration error: one class for every load/validate failure, messages in Consul's words.
import { ProconsulError } from '../../errors.ts';

/** A configuration file, flag or value that Consul would reject; the message is Consul's text. */
export class ConfigError extends ProconsulError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('bad_request', message, options);
  }
}

/** Formats errors the way hashicorp/go-multierror lists them (`1 error occurred:\n\t* …\n\n`). */
export function multiError(messages: string[]): string {
  if (messages.length === 1) return `1 error occurred:\n\t* ${messages[0]}\n\n`;
  return `${messages.length} errors occurred:\n\t${messages.map((m) => `* ${m}`).join('\n\t')}\n\n`;
}
