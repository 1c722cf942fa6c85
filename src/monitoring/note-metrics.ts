import { Counter, Histogram, Registry } from 'prom-client';
import type { NoteObserver } from '../domain/note/note.service';

/**
 * Prometheus view of note drafting: drafts by backend, audience, language and outcome (RELEASABLE,
 * FAILED_CHECKS or the backend error code), drafting time, and which safety checks fail. Labels are
 * bounded (one configured backend, two audiences, two languages, five checks); never ids or text.
 */
export function createNoteMetrics(registry: Registry): NoteObserver {
  const drafts = new Counter({
    name: 'care_companion_note_drafts_total',
    help: 'Note drafts by backend, audience, language and outcome',
    labelNames: ['backend', 'audience', 'language', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'care_companion_note_draft_duration_seconds',
    help: 'Time to draft a note (generation and safety checks), by backend',
    labelNames: ['backend'] as const,
    buckets: [0.01, 0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const failures = new Counter({
    name: 'care_companion_note_safety_check_failures_total',
    help: 'Safety checks failed by note drafts, by backend and check',
    labelNames: ['backend', 'check'] as const,
    registers: [registry],
  });
  return {
    drafted: ({ backend, audience, language, outcome, seconds, failedChecks }) => {
      drafts.inc({ backend, audience, language, outcome });
      duration.observe({ backend }, seconds);
      for (const check of failedChecks) failures.inc({ backend, check });
    },
  };
}
