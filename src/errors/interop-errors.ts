import { AppError } from './app-error';

/** A multipart/related body (STOW-RS request, WADO-RS response) cannot be parsed. */
export class MalformedMultipartError extends AppError {
  readonly code = 'MALFORMED_MULTIPART' as const;
}

/** A multipart body (STOW-RS request) carries more parts than allowed; refused before any part is read. */
export class TooManyPartsError extends AppError {
  readonly code = 'TOO_MANY_PARTS' as const;
  override readonly httpStatus = 413;
}

/** Codes of failures talking to the configured PACS. */
export type PacsErrorCode =
  | 'PACS_NOT_CONFIGURED'
  | 'PACS_UNAVAILABLE'
  | 'PACS_REJECTED'
  | 'PACS_RESPONSE_TOO_LARGE'
  | 'PACS_BAD_RESPONSE';

/** The configured DICOMweb server is missing, unreachable, refused a request or answered nonsense. */
export class PacsError extends AppError {
  override readonly httpStatus: number;
  constructor(
    readonly code: PacsErrorCode,
    message: string,
    details: Record<string, string | number | null> = {},
    options?: { cause?: unknown },
  ) {
    super(message, details, options);
    this.httpStatus = code === 'PACS_NOT_CONFIGURED' ? 503 : 502;
  }
}
