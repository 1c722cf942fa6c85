import { GraphQLError } from 'graphql';
import pino from 'pino';
import { ArgumentValidationError } from 'type-graphql';
import { unwrapResolverError as apolloUnwrap } from '@apollo/server/errors';
import { createFormatError, unwrapResolverError, withoutInputValues } from './format-error';
import { NotFoundError } from './app-error';
import { databaseErrorOf, isDependencyUnavailable, loggableError } from './dependency-errors';

const PHI = ['Vexmorrow', 'Quillonia', 'PHIMRN-1', '1937-03-29'];
const leaks = (text: string) => PHI.filter((v) => text.includes(v));

describe('withoutInputValues', () => {
  it.each([
    [
      'Variable "$i" got invalid value { mrn: "PHIMRN-1", givenName: "Quillonia", Quillonia: "x" }; Field "Quillonia" is not defined by type "CreatePatientInput".',
      'Variable "$i" got an invalid value (expected type "CreatePatientInput").',
    ],
    [
      'Variable "$i" got invalid value "Vexmorrow" at "i.sex"; Value "Vexmorrow" does not exist in "Sex" enum.',
      'Variable "$i" got an invalid value at "i.sex" (expected type "Sex").',
    ],
    ['String cannot represent a non string value: Vexmorrow', 'String cannot represent a non string value.'],
    [
      'Expected value of type "Int", found "1937-03-29"; Int cannot represent non-integer value: "1937-03-29"',
      'Expected value of type "Int", found an invalid value.',
    ],
    [
      'Value "Vexmorrow" does not exist in "Sex" enum. Did you mean the enum value "MALE"?',
      'The value does not exist in "Sex" enum.',
    ],
    [
      'Field "Quillonia" is not defined by type "CreatePatientInput".',
      'An input field is not defined by type "CreatePatientInput".',
    ],
    ['Syntax Error: Unexpected Name "Vexmorrow".', 'Syntax Error: Unexpected Name.'],
  ])('rewrites %s', (message, expected) => {
    expect(withoutInputValues(message)).toBe(expected);
    expect(leaks(withoutInputValues(message))).toEqual([]);
  });

  it('leaves messages without values as they are (control)', () => {
    const message = 'Variable "$i" of required type "CreatePatientInput!" was not provided.';
    expect(withoutInputValues(message)).toBe(message);
  });
});

describe('unwrapResolverError', () => {
  it("unwraps a located resolver error and keeps others, as Apollo's own does", () => {
    const cause = NotFoundError.of('Patient', 'p1');
    const cases: unknown[] = [
      new GraphQLError('x', { path: ['patient'], originalError: cause }),
      new GraphQLError('x', { originalError: cause }),
      new GraphQLError('x', { path: ['patient'] }),
      cause,
      'not an error',
    ];
    for (const error of cases) expect(unwrapResolverError(error)).toBe(apolloUnwrap(error));
    expect(unwrapResolverError(cases[0])).toBe(cause);
  });
});

describe('formatError and PHI', () => {
  const format = createFormatError(pino({ level: 'silent' }));

  it('answers class-validator failures with field names only, never the input (regression: target echoed)', () => {
    const error = new ArgumentValidationError([
      {
        target: { mrn: 'PHIMRN-1', familyName: 'Vexmorrow' },
        value: '1937-03-29',
        property: 'birthDate',
        children: [],
        constraints: { isCalendarDate: 'birthDate must be an existing date' },
      },
    ]);
    const out = format(error.toJSON(), error);
    expect(out.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { fields: ['birthDate'] } });
    expect(leaks(JSON.stringify(out))).toEqual([]);
  });

  it('echoes a NOT_FOUND id only when it is shaped like a record id', () => {
    expect(NotFoundError.of('Patient', 'PHIMRN-1').details).toEqual({ entity: 'Patient' });
    const id = '0b7e3f2a-1c7d-4a51-9a2e-3f1d2c4b5a69';
    expect(NotFoundError.of('Patient', id).details).toEqual({ entity: 'Patient', id });
  });

  it('rewrites a variable error passed through from graphql-js', () => {
    const error = new GraphQLError('Variable "$i" got invalid value "Vexmorrow" at "i.sex"; x', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(leaks(JSON.stringify(format(error.toJSON(), error)))).toEqual([]);
  });
});

describe('isDependencyUnavailable', () => {
  const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

  it.each([
    ['admin shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['dropped', new Error('Connection terminated unexpectedly')],
    ['starting up', withCode('the database system is starting up', '57P03')],
    ['wrapped', new Error('insert failed', { cause: withCode('connect ECONNREFUSED', 'ECONNREFUSED') })],
  ])('recognises %s', (_what, error) => {
    expect(isDependencyUnavailable(error)).toBe(true);
  });

  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a constraint', withCode('duplicate key value violates unique constraint', '23505')],
    ['nothing', undefined],
  ])('does not take %s for an outage', (_what, error) => {
    expect(isDependencyUnavailable(error)).toBe(false);
  });

  it('formats an outage as SERVICE_UNAVAILABLE without the driver message', () => {
    const format = createFormatError(pino({ level: 'silent' }));
    const error = new GraphQLError('x', {
      path: ['patients'],
      originalError: new Error('Connection terminated unexpectedly'),
    });
    const out = format(error.toJSON(), error);
    expect(out.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(out.message).not.toContain('Connection terminated');
  });
});

describe('database errors by SQLSTATE (regression: values PostgreSQL refused answered 503, with the SQL logged)', () => {
  /** A driver error as MikroORM raises it: the statement with its values inlined in the message. */
  const refused = (sqlState: string) =>
    Object.assign(
      new Error(
        `insert into "patient" ("mrn", "family_name", "birth_date") values ('PHIMRN-1', 'Vexmorrow', '0000-01-01') - date/time field value out of range`,
      ),
      { code: sqlState, table: 'patient', detail: 'Key (mrn)=(PHIMRN-1)' },
    );
  const capture = () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    return { lines, format: createFormatError(logger) };
  };

  it.each([
    ['22008', 'BAD_USER_INPUT'],
    ['22021', 'BAD_USER_INPUT'],
    ['22P02', 'BAD_USER_INPUT'],
    ['23505', 'CONFLICT'],
    ['57P01', 'SERVICE_UNAVAILABLE'],
    ['42P01', 'INTERNAL_SERVER_ERROR'],
  ])('answers SQLSTATE %s with %s and logs the SQLSTATE, never the statement', (sqlState, code) => {
    const { lines, format } = capture();
    const error = new GraphQLError('x', { path: ['createPatient'], originalError: refused(sqlState) });
    const out = format(error.toJSON(), error);
    expect(out.extensions?.code).toBe(code);
    expect(leaks(JSON.stringify(out))).toEqual([]);
    expect(lines.join('')).toContain(sqlState);
    expect(lines.join('')).toContain('patient');
    expect(leaks(lines.join(''))).toEqual([]);
    expect(lines.join('')).not.toMatch(/insert into/);
  });

  it('maps by SQLSTATE, not by the class of the driver error', () => {
    expect(databaseErrorOf(refused('22008'))?.code).toBe('BAD_USER_INPUT');
    expect(databaseErrorOf(new Error('wrapped', { cause: refused('22021') }))?.code).toBe('BAD_USER_INPUT');
    expect(databaseErrorOf(new TypeError('a bug'))).toBeNull();
    expect(loggableError(new TypeError('a bug'))).toMatchObject({ name: 'TypeError', message: 'a bug' });
  });
});
