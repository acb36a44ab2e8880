// JSON bodies rendered once per shared value: the watchers a change wakes together get one
// result object (endpoint/shared-reads.ts), so its JSON text is built once, not once per answer.

/** Rendered JSON of values that are never mutated once answered, by value identity. */
export class RenderedBodies {
  #plain = new WeakMap<object, string>();
  #pretty = new WeakMap<object, string>();

  /** The JSON text of `value` (indented as ?pretty asks), rendered on first use. */
  json(value: object, pretty: boolean): string {
    const cache = pretty ? this.#pretty : this.#plain;
    let text = cache.get(value);
    if (text === undefined) cache.set(value, text = renderJson(value, pretty));
    return text;
  }
}

/** Consul's JSON body: compact, or indented by 4 with a trailing newline for ?pretty. */
export function renderJson(value: unknown, pretty: boolean): string {
  return pretty ? JSON.stringify(value, null, 4) + '\n' : JSON.stringify(value);
}
