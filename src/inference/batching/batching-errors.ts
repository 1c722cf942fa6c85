import { AppError } from '../../errors';

/**
 * Admission control refused the request: the queue is at capacity, or the predicted wait exceeds the
 * configured limit. `details.retryAfterMs` is the engine's estimate of when a retry would be admitted
 * (an HTTP adapter can turn it into `Retry-After`).
 */
export class QueueFullError extends AppError {
  readonly code = 'QUEUE_FULL' as const;
  override readonly httpStatus = 503;
  declare readonly details: {
    task: string;
    version: string;
    reason: 'CAPACITY' | 'PREDICTED_WAIT';
    retryAfterMs: number;
    queueDepth: number;
    predictedWaitMs: number;
  };

  constructor(details: QueueFullError['details']) {
    super(
      details.reason === 'CAPACITY'
        ? 'The inference queue is full; retry later'
        : 'The inference queue is too long to serve this request in time; retry later',
      details,
    );
  }
}

/** The request was not started before its deadline; it never ran. */
export class DeadlineExceededError extends AppError {
  readonly code = 'DEADLINE_EXCEEDED' as const;
  override readonly httpStatus = 504;
}

/** The caller aborted the request (its AbortSignal fired) before it started; it was removed from the queue. */
export class CancelledError extends AppError {
  readonly code = 'CANCELLED' as const;
  /** 499 "client closed request": nobody is waiting for the answer. */
  override readonly httpStatus = 499;
}

/** The model session failed while running the batch this request was in; other batches are unaffected. */
export class InferenceFailedError extends AppError {
  readonly code = 'INFERENCE_FAILED' as const;
  override readonly httpStatus = 500;
}

/** No such task or version is loaded, or it is being unloaded and accepts no new requests. */
export class ModelNotLoadedError extends AppError {
  readonly code = 'MODEL_NOT_LOADED' as const;
  override readonly httpStatus = 503;
}
