import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuditCollector } from '../audit/audit.service';
import { AuditAction, NoteStatus } from '../enums';
import { ClinicalNote } from './clinical-note.entity';

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/**
 * Invalidates the draft and approved notes of a study that state other findings than the radiologist
 * now does (`present`): each is marked INVALIDATED with the reason, in `em` (flushed by the caller with
 * the read or correction that contradicts it, so both commit together) and audited. A note that agrees
 * stays as it is. Returns the invalidated notes.
 */
export async function invalidateContradictedNotes(
  em: EntityManager,
  audit: AuditCollector,
  study: { id: string; patientId: string },
  present: readonly string[],
  reason: string,
): Promise<ClinicalNote[]> {
  const notes = await em.getRepository(ClinicalNote).findContradictableOfStudy(study.id);
  const now = new Date();
  const invalidated = notes.filter((n) => !sameSet(n.statedFindings, present));
  for (const note of invalidated) {
    note.status = NoteStatus.INVALIDATED;
    note.invalidatedAt = now;
    note.invalidationReason = reason;
    audit.write(em, {
      action: AuditAction.UPDATE,
      entityType: 'ClinicalNote',
      entityId: note.id,
      patientId: study.patientId,
    });
  }
  return invalidated;
}
