/** States a durable job goes through. */
export const JOB_STATES = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'] as const;
/** One of {@link JOB_STATES}. */
export type JobState = (typeof JOB_STATES)[number];

/** A job taken from the queue, with how often it has been tried. */
export interface QueuedJob<T> {
  id: string;
  data: T;
  retryCount: number;
  retryLimit: number;
}

/**
 * Port of the durable job queue. Jobs survive restarts; a job whose worker dies is retried after it
 * expires; each attempt is delivered to exactly one worker across all processes.
 */
export interface JobQueue {
  /** Enqueues jobs; resolves with their ids once they are durable. */
  enqueue<T extends object>(
    queue: string,
    jobs: T[],
    options?: { retryLimit?: number; expireInSeconds?: number; priority?: number },
  ): Promise<string[]>;
  /** Starts handling a queue in this process. A handler that throws makes the attempt fail (and retry). */
  work<T>(
    queue: string,
    options: { concurrency: number; pollingIntervalSeconds: number },
    handler: (job: QueuedJob<T>) => Promise<void>,
  ): Promise<void>;
  /** Jobs waiting (created or retrying), for metrics and health. */
  queued(queue: string): Promise<number>;
  /** Jobs of a queue per state (created, retry, active, completed, cancelled, failed), for metrics. */
  states(queue: string): Promise<Record<JobState, number>>;
  stop(): Promise<void>;
}
