// The vocabulary of the config key table: leaf value types, blocks, lists and maps of blocks.
// A spec says how a decoded JSON/HCL value must look; decode.ts walks values against it.

/**
 * Leaf value types. `duration` is a Go duration string, `strings` a list of strings,
 * `map` a free-form string→string map, `any` opaque data kept as given.
 */
export type Leaf = 'string' | 'bool' | 'int' | 'float' | 'duration' | 'strings' | 'map' | 'any';

/** A nested block (`ports { … }`); `$open` blocks accept unknown keys as data. */
export interface BlockSpec {
  $block: Record<string, Spec>;
  $open?: boolean;
}

/** A list of blocks (`services`, `segments`). */
export interface ListSpec {
  $list: Spec;
}

/** A map from user-chosen names to blocks (`audit.sink`, `service.tagged_addresses`). */
export interface MapSpec {
  $map: Spec;
}

/** Any node of the key table. */
export type Spec = Leaf | BlockSpec | ListSpec | MapSpec;

/** A closed block: unknown keys are an error, as Consul's decoder reports them. */
export function block(keys: Record<string, Spec>): BlockSpec {
  return { $block: keys };
}

/** An open block: known keys are normalized, other keys are kept as data. */
export function openBlock(keys: Record<string, Spec>): BlockSpec {
  return { $block: keys, $open: true };
}

/** A list whose items follow `of`. */
export function listOf(of: Spec): ListSpec {
  return { $list: of };
}

/** A name → value map whose values follow `of`. */
export function mapOf(of: Spec): MapSpec {
  return { $map: of };
}

/** Narrowing helpers. */
export function isBlock(s: Spec): s is BlockSpec {
  return typeof s === 'object' && '$block' in s;
}
export function isList(s: Spec): s is ListSpec {
  return typeof s === 'object' && '$list' in s;
}
export function isMap(s: Spec): s is MapSpec {
  return typeof s === 'object' && '$map' in s;
}
