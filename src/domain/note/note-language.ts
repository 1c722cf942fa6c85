/** Languages notes are written and checked in. */
export const NOTE_LANGUAGES = ['en', 'es'] as const;

/** A language notes support: English or Spanish. */
export type NoteLanguage = (typeof NOTE_LANGUAGES)[number];

/** True when `tag` names a supported note language. */
export function isNoteLanguage(tag: string): tag is NoteLanguage {
  return (NOTE_LANGUAGES as readonly string[]).includes(tag);
}

/** Lower case without diacritics, so "Neumonía" and "neumonia" compare equal. */
export function foldText(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}
