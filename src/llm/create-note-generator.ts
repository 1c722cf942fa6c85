import type { AppConfig } from '../config/app-config';
import { LlamaCppNoteGenerator } from './llama-cpp.note-generator';
import type { NoteGenerator } from '../domain/note/note-generator';
import { OpenAiNoteGenerator } from './openai.note-generator';
import { TemplateNoteGenerator } from '../domain/note/template.note-generator';

/** Builds the configured note backend. */
export function createNoteGenerator(config: AppConfig['notes']): NoteGenerator {
  const backend = config.backend;
  switch (backend.kind) {
    case 'openai':
      return new OpenAiNoteGenerator({ ...backend, maxTokens: config.maxTokens });
    case 'llama-cpp':
      return new LlamaCppNoteGenerator({ ...backend, maxTokens: config.maxTokens });
    default:
      return new TemplateNoteGenerator();
  }
}
