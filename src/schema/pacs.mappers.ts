import type { DicomImportType } from './pacs.types';

/** An import result to its GraphQL type (counts, study ids, per-instance outcomes). */
export function toDicomImport(r: {
  studyInstanceUid: string;
  outcomes: {
    sopInstanceUid: string | null;
    status: string;
    failure?: { reason: number; code: string };
    studyId?: string;
  }[];
}): DicomImportType {
  const count = (s: string) => r.outcomes.filter((o) => o.status === s).length;
  return {
    studyInstanceUid: r.studyInstanceUid,
    stored: count('STORED'),
    alreadyStored: count('ALREADY_STORED'),
    failed: count('FAILED'),
    studyIds: [...new Set(r.outcomes.flatMap((o) => (o.studyId ? [o.studyId] : [])))],
    instances: r.outcomes.map((o) => ({
      sopInstanceUid: o.sopInstanceUid,
      status: o.status,
      code: o.failure?.code ?? null,
      failureReason: o.failure?.reason ?? null,
      studyId: o.studyId ?? null,
    })),
  };
}
