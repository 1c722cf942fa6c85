/** Worker-thread pool that decodes and preprocesses uploads off the event loop. */
export * from './decode-job';
export * from './decode-pool';
