import type { ClinicalNote } from '../domain/note/clinical-note.entity';
import { AI_ASSISTANCE_WARNING } from '../domain/prediction/ai-assistance';
import { ClinicalNoteType } from './note.types';

export const toNote = (n: ClinicalNote): ClinicalNoteType =>
  Object.assign(new ClinicalNoteType(), {
    id: n.id,
    predictionId: n.prediction.id,
    audience: n.audience,
    language: n.language,
    body: n.body,
    status: n.status,
    backend: n.backend,
    safetyChecks: n.safetyChecks,
    releasable: (n.safetyChecks as { passed?: unknown }).passed === true,
    source: n.source,
    statedFindings: n.statedFindings ?? [],
    invalidatedAt: n.invalidatedAt ?? null,
    invalidationReason: n.invalidationReason ?? null,
    failedChecks: ((n.safetyChecks as { checks?: { name: string; passed: boolean }[] }).checks ?? [])
      .filter((c) => !c.passed)
      .map((c) => c.name),
    warning: AI_ASSISTANCE_WARNING,
    approvedAt: n.approvedAt ?? null,
    createdAt: n.createdAt,
  });
