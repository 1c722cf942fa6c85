import { BREAK, DocumentNode, visit } from 'graphql';

/** The one character PostgreSQL text cannot hold (SQLSTATE 22021): refused before anything runs. */
const NUL = '\u0000';

/**
 * Where an operation carries text the database cannot store: `'document'` (a string literal),
 * `'variables'`, or null when there is none. Dates outside what PostgreSQL stores are refused by
 * the scalars and validators themselves (schema/scalars.ts, inputs.ts). The walk over variables is
 * iterative, so a deeply nested JSON body cannot overflow the stack.
 */
export function unstorableInput(document: DocumentNode, variables: unknown): 'document' | 'variables' | null {
  let inDocument = false;
  visit(document, {
    StringValue(node) {
      if (node.value.includes(NUL)) {
        inDocument = true;
        return BREAK;
      }
      return undefined;
    },
  });
  if (inDocument) return 'document';
  const pending: unknown[] = [variables];
  while (pending.length) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (value.includes(NUL)) return 'variables';
    } else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key.includes(NUL)) return 'variables';
        pending.push(inner);
      }
    }
  }
  return null;
}
