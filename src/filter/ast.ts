// The syntax tree of a filter expression, as go-bexpr's grammar/ast.go shapes it.

/** A path into the value: dotted/indexed (`Meta["k"]`) or a quoted JSON pointer (`"/Meta/k"`). */
export interface Selector {
  kind: 'bexpr' | 'pointer';
  path: string[];
}

/** go-bexpr's match operators; `contains` parses to `in`, `not contains` to `not in`. */
export type MatchOperator = '==' | '!=' | 'in' | 'not in' | 'is empty' | 'is not empty' | 'matches' | 'not matches';

/** `Selector op Value`, `Value in Selector` or `Selector is empty`; value is the raw text. */
export interface MatchExpression {
  type: 'match';
  selector: Selector;
  op: MatchOperator;
  value?: string;
}

/** How `any X as …` names the index and the value of each element. */
export type CollectionBinding =
  | { mode: 'default'; name: string }
  | { mode: 'index'; index: string }
  | { mode: 'value'; value: string }
  | { mode: 'index-value'; index: string; value: string };

/** `any|all Selector as binding { inner }` over a list or a map. */
export interface CollectionExpression {
  type: 'collection';
  op: 'any' | 'all';
  selector: Selector;
  binding: CollectionBinding;
  inner: Expression;
}

/** Any node of the tree. */
export type Expression =
  | { type: 'and' | 'or'; left: Expression; right: Expression }
  | { type: 'not'; operand: Expression }
  | MatchExpression
  | CollectionExpression;

/** The selector as go-bexpr prints it in errors: dotted, or slash-joined for JSON pointers. */
export function selectorText(selector: Selector): string {
  return selector.path.join(selector.kind === 'bexpr' ? '.' : '/');
}
