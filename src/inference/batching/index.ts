/** Triton-style dynamic batching: the model-free batcher, its errors, and the session executor. */
export * from './batching-errors';
export * from './dynamic-batcher';
export * from './session-executor';
