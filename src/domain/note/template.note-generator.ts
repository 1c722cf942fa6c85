import { BodyPart, GateVerdict, NoteAudience, NoteSource } from '../enums';
import type { NoteFacts, NoteRequest } from './note-facts';
import type { NoteGenerator } from './note-generator';
import type { NoteLanguage } from './note-language';

/** Plain words for each model label, per language: the name, then a short gloss for patients. */
const LABEL_WORDS: Record<NoteLanguage, Record<string, { name: string; gloss: string }>> = {
  en: {
    PNEUMONIA: { name: 'pneumonia', gloss: 'pneumonia, an infection of the lung' },
    TUBERCULOSIS: { name: 'tuberculosis', gloss: 'TB (tuberculosis), a lung infection' },
    FRACTURE: { name: 'fracture', gloss: 'a fracture, which is a broken bone' },
  },
  es: {
    PNEUMONIA: { name: 'neumonía', gloss: 'una neumonía, que es una infección del pulmón' },
    TUBERCULOSIS: { name: 'tuberculosis', gloss: 'una tuberculosis (TB), que es una infección del pulmón' },
    FRACTURE: { name: 'fractura', gloss: 'una fractura, que es un hueso roto' },
  },
};

const BODY_PART: Record<NoteLanguage, Record<BodyPart, string>> = {
  en: { [BodyPart.CHEST]: 'chest', [BodyPart.WRIST]: 'wrist' },
  es: { [BodyPart.CHEST]: 'tórax', [BodyPart.WRIST]: 'muñeca' },
};

function words(language: NoteLanguage, label: string): { name: string; gloss: string } {
  const known = LABEL_WORDS[language][label.toUpperCase()];
  if (known) return known;
  const plain = label.toLowerCase().replace(/_/g, ' ');
  return { name: plain, gloss: plain };
}

const pct = (p: number) => (Math.round(p * 1000) / 1000).toFixed(3);

function patientEn(f: NoteFacts): string[] {
  const part = BODY_PART.en[f.bodyPart];
  const out = [`This note is about the X-ray of your ${part}.`, 'A computer program looked at it first.'];
  if (f.gateVerdict !== GateVerdict.ACCEPTED) {
    out.push('The program could not read this image, so it gave no result.');
    out.push('The image may need to be taken again.');
  } else if (f.findings.length === 0) {
    out.push('The program did not flag any problem.');
    out.push('This does not prove that all is well, because the program can miss things.');
  } else {
    for (const finding of f.findings)
      out.push(`It found signs that may point to ${words('en', finding.label).gloss}.`);
    out.push('The program is not always right.');
    out.push('It can flag things that are not there, and it can miss things.');
  }
  out.push('A radiologist is a doctor who reads X-rays.');
  out.push('A radiologist must check this result.');
  out.push('Your own doctor will talk with you about what it means and what to do next.');
  return out;
}

function patientEs(f: NoteFacts): string[] {
  const part = BODY_PART.es[f.bodyPart];
  const out = [
    `Esta nota es sobre la radiografía de su ${part}.`,
    'Un programa de computadora la miró primero.',
  ];
  if (f.gateVerdict !== GateVerdict.ACCEPTED) {
    out.push('El programa no pudo leer esta imagen y no dio ningún resultado.');
    out.push('Puede que haya que tomar la imagen otra vez.');
  } else if (f.findings.length === 0) {
    out.push('El programa no marcó ningún problema.');
    out.push('Esto no prueba que todo esté bien, porque el programa puede pasar cosas por alto.');
  } else {
    for (const finding of f.findings)
      out.push(`Vio señales que pueden indicar ${words('es', finding.label).gloss}.`);
    out.push('El programa no siempre acierta.');
    out.push('Puede marcar cosas que no hay, y puede pasar cosas por alto.');
  }
  out.push('Un radiólogo es un médico que lee radiografías.');
  out.push('Un radiólogo debe revisar este resultado.');
  out.push('Su médico hablará con usted sobre lo que significa y lo que hay que hacer.');
  return out;
}

function clinicianEn(f: NoteFacts): string[] {
  const model = f.model ? ` (model ${f.model})` : '';
  const out = [`Draft AI second reading of the ${BODY_PART.en[f.bodyPart]} radiograph${model}.`];
  if (f.gateVerdict !== GateVerdict.ACCEPTED) {
    out.push(`The input gate refused the image (${f.gateVerdict}); no probabilities were produced.`);
    out.push('The image may need to be repeated or checked against the study.');
  } else if (f.findings.length === 0) {
    out.push('No label reached its recall-first operating point.');
    out.push('A negative AI reading may still miss disease.');
  } else {
    for (const x of f.findings)
      out.push(
        `Flagged: ${words('en', x.label).name} (calibrated probability ${pct(x.probability ?? 0)}, threshold ${pct(x.threshold ?? 0)}).`,
      );
    out.push('No other label reached its threshold.');
    out.push(
      'Thresholds favour recall, so false positives are expected and this finding may not be confirmed.',
    );
  }
  out.push(
    'This is AI assistance, not a diagnosis: a radiologist must review and confirm it before any clinical decision.',
  );
  return out;
}

function clinicianEs(f: NoteFacts): string[] {
  const model = f.model ? ` (modelo ${f.model})` : '';
  const out = [
    `Borrador de segunda lectura por IA de la radiografía de ${BODY_PART.es[f.bodyPart]}${model}.`,
  ];
  if (f.gateVerdict !== GateVerdict.ACCEPTED) {
    out.push(`El filtro de entrada rechazó la imagen (${f.gateVerdict}); no se calcularon probabilidades.`);
    out.push('Puede que haya que repetir la imagen o comprobar que corresponde al estudio.');
  } else if (f.findings.length === 0) {
    out.push('Ninguna etiqueta alcanzó su umbral, elegido para priorizar la sensibilidad.');
    out.push('Una lectura negativa de la IA puede pasar por alto enfermedad.');
  } else {
    for (const x of f.findings)
      out.push(
        `Señalado: ${words('es', x.label).name} (probabilidad calibrada ${pct(x.probability ?? 0)}, umbral ${pct(x.threshold ?? 0)}).`,
      );
    out.push('Ninguna otra etiqueta alcanzó su umbral.');
    out.push(
      'Los umbrales priorizan la sensibilidad, así que se esperan falsos positivos y el hallazgo puede no confirmarse.',
    );
  }
  out.push(
    'Es una ayuda de IA, no un diagnóstico: un radiólogo debe revisarla y confirmarla antes de cualquier decisión clínica.',
  );
  return out;
}

function patientReadEn(f: NoteFacts): string[] {
  const out = [
    `This note is about the X-ray of your ${BODY_PART.en[f.bodyPart]}.`,
    'A radiologist is a doctor who reads X-rays.',
    'A radiologist has read your X-ray, with help from a computer program.',
  ];
  if (f.findings.length === 0)
    out.push('The radiologist did not find signs of the problems this check looks for.');
  for (const finding of f.findings)
    out.push(`The radiologist found signs of ${words('en', finding.label).gloss}.`);
  out.push('An X-ray can miss things, so this result may not tell the whole story.');
  out.push('Your own doctor will check this result with you and talk about what to do next.');
  return out;
}

function patientReadEs(f: NoteFacts): string[] {
  const out = [
    `Esta nota es sobre la radiografía de su ${BODY_PART.es[f.bodyPart]}.`,
    'Un radiólogo es un médico que lee radiografías.',
    'Un radiólogo leyó su radiografía, con ayuda de un programa de computadora.',
  ];
  if (f.findings.length === 0)
    out.push('El radiólogo no encontró señales de los problemas que busca esta prueba.');
  for (const finding of f.findings)
    out.push(`El radiólogo encontró señales de ${words('es', finding.label).gloss}.`);
  out.push('Una radiografía puede pasar cosas por alto, así que este resultado puede no ser completo.');
  out.push('Su médico revisará este resultado con usted y le dirá qué hacer.');
  return out;
}

function clinicianReadEn(f: NoteFacts): string[] {
  const model = f.model ? `, with an AI second reading by model ${f.model}` : '';
  const out = [`Radiologist's read of the ${BODY_PART.en[f.bodyPart]} radiograph${model}.`];
  if (f.findings.length === 0) out.push('The radiologist found none of the findings this AI task covers.');
  for (const x of f.findings) out.push(`Stated present by the radiologist: ${words('en', x.label).name}.`);
  out.push('AI flags the radiologist did not confirm are not reported here.');
  out.push('Radiographs may miss disease, so correlation with the clinical picture is still needed.');
  out.push('The treating clinician should review this note against the full radiology report.');
  return out;
}

function clinicianReadEs(f: NoteFacts): string[] {
  const model = f.model ? `, con una segunda lectura por IA del modelo ${f.model}` : '';
  const out = [`Lectura del radiólogo de la radiografía de ${BODY_PART.es[f.bodyPart]}${model}.`];
  if (f.findings.length === 0)
    out.push('El radiólogo no encontró ninguno de los hallazgos que cubre esta tarea de IA.');
  for (const x of f.findings) out.push(`Presente según el radiólogo: ${words('es', x.label).name}.`);
  out.push('Las señales de la IA que el radiólogo no confirmó no se informan aquí.');
  out.push('Una radiografía puede pasar por alto enfermedad, así que hace falta correlación clínica.');
  out.push('El médico tratante debe revisar esta nota junto con el informe radiológico completo.');
  return out;
}

/** Renders the note a request asks for, as sentences. Pure and deterministic. */
export function renderTemplateNote(request: NoteRequest): string[] {
  const patient = request.audience === NoteAudience.PATIENT;
  if (request.facts.source === NoteSource.RADIOLOGIST) {
    if (request.language === 'es')
      return patient ? patientReadEs(request.facts) : clinicianReadEs(request.facts);
    return patient ? patientReadEn(request.facts) : clinicianReadEn(request.facts);
  }
  if (request.language === 'es') return patient ? patientEs(request.facts) : clinicianEs(request.facts);
  return patient ? patientEn(request.facts) : clinicianEn(request.facts);
}

/**
 * The embedded default backend: fixed sentences filled only from the structured findings (so it can
 * name nothing else), in English or Spanish, streamed word by word. Needs no model and no network.
 */
export class TemplateNoteGenerator implements NoteGenerator {
  readonly name = 'template';

  async generate(
    request: NoteRequest,
    onChunk: (text: string) => void,
    signal: AbortSignal,
  ): Promise<string> {
    const text = renderTemplateNote(request).join(' ');
    for (const piece of text.match(/\S+\s*/g) ?? []) {
      signal.throwIfAborted();
      onChunk(piece);
    }
    return text;
  }

  async close(): Promise<void> {}
}
