import { GraphQLError, GraphQLScalarType } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';

/** First and last instants accepted: four-digit years, which is also what PostgreSQL's timestamptz stores. */
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/** The one message of a refused date-time: it never quotes the value (which may be anything, PHI too). */
const REFUSED = 'DateTimeISO accepts RFC 3339 date-times in the years 0001 to 9999 only.';

function checked(parse: () => unknown): Date {
  let value: unknown;
  try {
    value = parse();
  } catch {
    throw new GraphQLError(REFUSED);
  }
  if (!(value instanceof Date) || !(value.getTime() >= EARLIEST && value.getTime() <= LATEST))
    throw new GraphQLError(REFUSED);
  return value;
}

/**
 * `DateTimeISO` (what `Date` fields and arguments are) as graphql-scalars defines it, except that a
 * value it refuses is never echoed in the error (graphql-scalars writes "cannot represent an invalid
 * date-time-string <input>", and a literal's message reaches the client as it is), and that instants
 * PostgreSQL cannot store (year 0000 and earlier, after 9999) are refused here rather than by the
 * database. Same name, description and serialisation, so the schema does not change.
 */
export const DateTimeISOScalar = new GraphQLScalarType({
  name: GraphQLDateTimeISO.name,
  description: GraphQLDateTimeISO.description,
  specifiedByURL: GraphQLDateTimeISO.specifiedByURL,
  extensions: GraphQLDateTimeISO.extensions,
  serialize: (value) => GraphQLDateTimeISO.serialize(value),
  parseValue: (value) => checked(() => GraphQLDateTimeISO.parseValue(value)),
  parseLiteral: (ast, variables) => checked(() => GraphQLDateTimeISO.parseLiteral(ast, variables)),
});
