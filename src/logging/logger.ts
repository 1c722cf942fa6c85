import pino from 'pino';

/** Structured logger used across the app (pino). Log ids, never PHI. */
export type Logger = pino.Logger;

/** Creates the process logger; `redact` removes auth headers and any field named like PHI as a second line of defence. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'care-companion' },
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          '*.givenName',
          '*.familyName',
          '*.mrn',
          '*.birthDate',
          '*.patientName',
        ],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
