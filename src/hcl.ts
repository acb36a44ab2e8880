// HCL v1 parsing through js-hcl-parser (a large GopherJS build), required on the first HCL text
// rather than at start-up: most runs (`agent -dev`, JSON config, JSON rules) never parse HCL.
import { createRequire } from 'node:module';
import type HCLModule from 'js-hcl-parser';

let hcl: typeof HCLModule | undefined;

/** HCL v1 text → JSON text, or a message starting with "unable to parse JSON:" (js-hcl-parser's `parse`). */
export function parseHclText(input: string): string {
  hcl ??= createRequire(import.meta.url)('js-hcl-parser') as typeof HCLModule;
  return hcl.parse(input);
}
