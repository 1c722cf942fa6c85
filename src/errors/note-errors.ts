import { AppError, ErrorDetails } from './app-error';

/** Why a note backend produced no draft. */
export type NoteBackendErrorCode =
  'NOTE_BACKEND_TIMEOUT' | 'NOTE_BACKEND_UNAVAILABLE' | 'NOTE_BACKEND_MALFORMED';

/** A note backend timed out, failed or answered something that is not a completion. No note is stored. */
export class NoteBackendError extends AppError {
  override readonly httpStatus: number;
  constructor(
    readonly code: NoteBackendErrorCode,
    message: string,
    details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, details, options);
    this.httpStatus = code === 'NOTE_BACKEND_TIMEOUT' ? 504 : 502;
  }

  static timeout(backend: string, timeoutMs: number): NoteBackendError {
    return new NoteBackendError('NOTE_BACKEND_TIMEOUT', 'The note backend did not finish in time', {
      backend,
      timeoutMs,
    });
  }
  static unavailable(backend: string, reason: string, status?: number, cause?: unknown): NoteBackendError {
    return new NoteBackendError(
      'NOTE_BACKEND_UNAVAILABLE',
      `The note backend failed: ${reason}`,
      { backend, status: status ?? null },
      { cause },
    );
  }
  static malformed(backend: string, reason: string, cause?: unknown): NoteBackendError {
    return new NoteBackendError(
      'NOTE_BACKEND_MALFORMED',
      `The note backend answered something that is not a completion: ${reason}`,
      { backend },
      { cause },
    );
  }
}

/** A note whose draft failed a safety check cannot be approved. */
export class NoteFailedSafetyChecksError extends AppError {
  readonly code = 'NOTE_FAILED_SAFETY_CHECKS' as const;
  override readonly httpStatus = 409;
}
