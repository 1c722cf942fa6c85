import {
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
}

/** Default page size of connections when `first` is omitted (see domain/shared/pagination). */
const DEFAULT_PAGE = 20;

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
 * asking for 100 studies × 100 images each costs what it will cost the database.
 */
function measure(
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  pageMax: number,
  visiting: Set<string>,
): Walk {
  let depth = 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      const child = selection.selectionSet
        ? measure(selection.selectionSet, fragments, pageMax, visiting)
        : { depth: 0, cost: 0 };
      const multiplier = multiplierOf(selection, pageMax);
      depth = Math.max(depth, child.depth + (selection.selectionSet ? 1 : 0));
      cost += 1 + multiplier * child.cost;
    } else {
      const set =
        selection.kind === Kind.INLINE_FRAGMENT
          ? selection.selectionSet
          : fragments[selection.name.value]?.selectionSet;
      const name = selection.kind === Kind.FRAGMENT_SPREAD ? selection.name.value : null;
      if (!set || (name && visiting.has(name))) continue;
      if (name) visiting.add(name);
      const inner = measure(set, fragments, pageMax, visiting);
      if (name) visiting.delete(name);
      depth = Math.max(depth, inner.depth);
      cost += inner.cost;
    }
  }
  return { depth, cost };
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
      for (const def of document.definitions) {
        if (def.kind !== Kind.OPERATION_DEFINITION) continue;
        const { depth, cost } = measure(
          (def as OperationDefinitionNode).selectionSet,
          fragments,
          pageMax,
          new Set(),
        );
        if (depth > maxDepth) {
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
