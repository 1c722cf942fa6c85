import {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLError,
  Kind,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
} from 'graphql';
import { QueryTooComplexError } from '../errors';

/** Error code of a query rejected for depth or cost. */
export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

interface Walk {
  depth: number;
  cost: number;
  /** Deepest introspection (`__schema`, `__type`) selection, bounded on its own. */
  introspectionDepth: number;
  /** `__schema` and `__type` fields: each answers with the whole schema, so aliases multiply it. */
  introspectionRoots: number;
}

/** Default page size of connections when `first` is omitted (see domain/shared/pagination). */
const DEFAULT_PAGE = 20;

/**
 * Deepest introspection selection accepted. The standard introspection query of tools (graphql-js
 * `getIntrospectionQuery`) nests about a dozen levels through `ofType`; anything far deeper is abuse.
 */
export const INTROSPECTION_MAX_DEPTH = 16;

/** Most `__schema`/`__type` fields in one operation (an alias bomb of them returns the schema hundreds of times). */
export const INTROSPECTION_MAX_ROOTS = 4;

/**
 * How many times a field's selection repeats: a literal `first`; the page maximum when `first` is a
 * variable (validation runs before variables are bound); the default page for a connection without
 * `first`; otherwise once.
 */
function multiplierOf(field: FieldNode, pageMax: number): number {
  const arg = field.arguments?.find((a) => a.name.value === 'first');
  if (arg?.value.kind === Kind.INT) return Math.max(1, Number(arg.value.value));
  if (arg) return pageMax;
  const isConnection = field.selectionSet?.selections.some(
    (s) => s.kind === Kind.FIELD && s.name.value === 'edges',
  );
  return isConnection ? DEFAULT_PAGE : 1;
}

/**
 * Measures an operation: depth counts nested selection sets; cost counts one per field, multiplied
 * through list connections by their `first` argument (or the page maximum when unknown), so a query
 * asking for 100 studies × 100 images each costs what it will cost the database. Introspection fields
 * cost like any other field; their depth is reported apart (tools' introspection query is deep).
 * Each fragment is measured once (`memo`): a document whose fragments each spread the next one ten
 * times is measured in linear time, not expanded (regression: such a document held the event loop
 * for minutes).
 */
function measure(
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  pageMax: number,
  visiting: Set<string>,
  memo: Map<string, Walk>,
): Walk {
  let depth = 0;
  let cost = 0;
  let introspectionDepth = 0;
  let introspectionRoots = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const child = selection.selectionSet
        ? measure(selection.selectionSet, fragments, pageMax, visiting, memo)
        : { depth: 0, cost: 0, introspectionDepth: 0, introspectionRoots: 0 };
      introspectionRoots += child.introspectionRoots;
      const own = child.depth + (selection.selectionSet ? 1 : 0);
      if (selection.name.value.startsWith('__')) {
        introspectionDepth = Math.max(introspectionDepth, own, child.introspectionDepth);
        if (selection.name.value === '__schema' || selection.name.value === '__type') introspectionRoots += 1;
        cost += 1 + child.cost;
        continue;
      }
      const multiplier = multiplierOf(selection, pageMax);
      depth = Math.max(depth, own);
      introspectionDepth = Math.max(introspectionDepth, child.introspectionDepth);
      cost += 1 + multiplier * child.cost;
    } else {
      const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : null;
      let inner: Walk | undefined = name ? memo.get(name) : undefined;
      if (!inner) {
        const set =
          selection.kind === Kind.INLINE_FRAGMENT
            ? selection.selectionSet
            : fragments[selection.name.value]?.selectionSet;
        // A cycle is reported by the specified NoFragmentCycles rule; here it just ends the walk.
        if (!set || (name && visiting.has(name))) continue;
        if (name) visiting.add(name);
        inner = measure(set, fragments, pageMax, visiting, memo);
        if (name) {
          visiting.delete(name);
          memo.set(name, inner);
        }
      }
      depth = Math.max(depth, inner.depth);
      introspectionDepth = Math.max(introspectionDepth, inner.introspectionDepth);
      introspectionRoots += inner.introspectionRoots;
      cost += inner.cost;
    }
  }
  return { depth, cost, introspectionDepth, introspectionRoots };
}

/**
 * Validation rule rejecting operations deeper than `maxDepth` or costlier than `maxCost`. The error
 * carries a {@link QueryTooComplexError} as its cause: Apollo re-codes every validation error as
 * GRAPHQL_VALIDATION_FAILED, and `formatError` restores the domain code from the cause.
 */
export function queryLimitsRule(maxDepth: number, maxCost: number, pageMax: number): ValidationRule {
  return (context: ValidationContext) => ({
    Document(document) {
      const fragments: Record<string, FragmentDefinitionNode> = {};
      for (const def of document.definitions)
        if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;
      const memo = new Map<string, Walk>();
      for (const def of document.definitions) {
        if (def.kind !== Kind.OPERATION_DEFINITION) continue;
        const { depth, cost, introspectionDepth, introspectionRoots } = measure(
          (def as OperationDefinitionNode).selectionSet,
          fragments,
          pageMax,
          new Set(),
          memo,
        );
        if (introspectionDepth > INTROSPECTION_MAX_DEPTH || introspectionRoots > INTROSPECTION_MAX_ROOTS) {
          const message =
            introspectionRoots > INTROSPECTION_MAX_ROOTS
              ? `${introspectionRoots} introspection fields exceed the limit of ${INTROSPECTION_MAX_ROOTS}`
              : `Introspection depth ${introspectionDepth} exceeds the limit of ${INTROSPECTION_MAX_DEPTH}`;
          const details = {
            depth: introspectionDepth,
            maxDepth: INTROSPECTION_MAX_DEPTH,
            introspectionFields: introspectionRoots,
            maxIntrospectionFields: INTROSPECTION_MAX_ROOTS,
          };
          context.reportError(
            new GraphQLError(message, {
              nodes: [def],
              extensions: { code: QUERY_TOO_COMPLEX, ...details },
              originalError: new QueryTooComplexError(message, details),
            }),
          );
        } else if (depth > maxDepth) {
          const message = `Query depth ${depth} exceeds the limit of ${maxDepth}`;
          context.reportError(
            new GraphQLError(message, {
              nodes: [def],
              extensions: { code: QUERY_TOO_COMPLEX, depth, maxDepth },
              originalError: new QueryTooComplexError(message, { depth, maxDepth }),
            }),
          );
        } else if (cost > maxCost) {
          const message = `Query cost ${cost} exceeds the limit of ${maxCost}`;
          context.reportError(
            new GraphQLError(message, {
              nodes: [def],
              extensions: { code: QUERY_TOO_COMPLEX, cost, maxCost },
              originalError: new QueryTooComplexError(message, { cost, maxCost }),
            }),
          );
        }
      }
    },
  });
}

/**
 * Root fields an operation runs, aliases and fragments included (`{ a: analyzeStudy … b: analyzeStudy … }`
 * runs two): its cost against the rate limit, at least 1. `__typename` is free. Each fragment is
 * counted once (`memo`), so a fan-out of fragments is counted in linear time.
 */
export function rootFieldCount(operation: OperationDefinitionNode, document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions)
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const memo = new Map<string, number>();
  const count = (set: SelectionSetNode, visiting: Set<string>): number => {
    let n = 0;
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) n += s.name.value === '__typename' ? 0 : 1;
      else if (s.kind === Kind.INLINE_FRAGMENT) n += count(s.selectionSet, visiting);
      else {
        const name = s.name.value;
        const known = memo.get(name);
        if (known !== undefined) {
          n += known;
          continue;
        }
        const def = fragments.get(name);
        if (!def || visiting.has(name)) continue;
        visiting.add(name);
        const inner = count(def.selectionSet, visiting);
        visiting.delete(name);
        memo.set(name, inner);
        n += inner;
      }
    }
    return n;
  };
  return Math.max(1, count(operation.selectionSet, new Set()));
}
