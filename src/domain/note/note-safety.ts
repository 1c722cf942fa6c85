import { NoteAudience } from '../enums';
import type { NoteFacts } from './note-facts';
import { foldText, NoteLanguage } from './note-language';
import {
  measureReadability,
  ReadabilityResult,
  ReadabilityTargets,
  splitSentences,
  splitWords,
} from './readability';

/**
 * One condition and the words that name it in any supported language. `groundedBy` lists the model
 * labels whose presence in the findings allows the draft to name it; an empty list means no model
 * reports it, so naming it is never grounded.
 */
interface ConditionConcept {
  id: string;
  groundedBy: string[];
  terms: string[];
}

/**
 * Condition vocabulary, English and Spanish (matched without accents, whole words, singular and plural).
 * Mentions count whether affirmed or negated: "no sign of effusion" still names a condition the
 * findings do not contain, and such a draft is not released (the conservative reading).
 */
const CONDITION_VOCABULARY: readonly ConditionConcept[] = [
  {
    id: 'PNEUMONIA',
    groundedBy: ['PNEUMONIA'],
    terms: [
      'pneumonia',
      'pneumonitis',
      'consolidation',
      'neumonia',
      'pulmonia',
      'neumonitis',
      'consolidacion',
    ],
  },
  {
    id: 'TUBERCULOSIS',
    groundedBy: ['TUBERCULOSIS'],
    terms: ['tuberculosis', 'tb', 'tubercular', 'tuberculous', 'tuberculoso', 'tuberculosa'],
  },
  {
    id: 'INFECTION',
    groundedBy: ['PNEUMONIA', 'TUBERCULOSIS'],
    terms: [
      'infection',
      'infected',
      'lung infection',
      'chest infection',
      'infeccion',
      'infectado',
      'infectada',
      'infeccion pulmonar',
      'infeccion del pulmon',
      'infeccion de los pulmones',
    ],
  },
  {
    id: 'FRACTURE',
    groundedBy: ['FRACTURE'],
    terms: [
      'fracture',
      'fractured',
      'broken bone',
      'bone is broken',
      'break in the bone',
      'fractura',
      'fracturado',
      'fracturada',
      'hueso roto',
      'huesos rotos',
      'rotura',
    ],
  },
  ...(
    [
      [
        'CANCER',
        'cancer',
        'carcinoma',
        'malignancy',
        'malignant',
        'maligno',
        'maligna',
        'neoplasm',
        'neoplasia',
      ],
      [
        'TUMOUR',
        'tumour',
        'tumor',
        'tumores',
        'mass',
        'masa',
        'masas',
        'nodule',
        'nodulo',
        'lesion',
        'lesiones',
      ],
      ['METASTASIS', 'metastasis', 'metastases', 'metastatic', 'metastasico'],
      ['LYMPHOMA', 'lymphoma', 'linfoma'],
      ['EFFUSION', 'effusion', 'pleural effusion', 'fluid around the lung', 'derrame', 'derrame pleural'],
      ['PNEUMOTHORAX', 'pneumothorax', 'collapsed lung', 'neumotorax', 'pulmon colapsado'],
      ['ATELECTASIS', 'atelectasis', 'atelectasia'],
      ['CARDIOMEGALY', 'cardiomegaly', 'enlarged heart', 'cardiomegalia', 'corazon agrandado'],
      ['HEART_FAILURE', 'heart failure', 'insuficiencia cardiaca'],
      ['EDEMA', 'edema', 'oedema'],
      ['EMPHYSEMA', 'emphysema', 'enfisema', 'copd', 'epoc'],
      ['FIBROSIS', 'fibrosis'],
      ['COVID', 'covid', 'covid-19', 'coronavirus'],
      ['SARCOIDOSIS', 'sarcoidosis'],
      ['ABSCESS', 'abscess', 'absceso'],
      ['BRONCHITIS', 'bronchitis', 'bronquitis'],
      ['ASTHMA', 'asthma', 'asma'],
      ['EMBOLISM', 'embolism', 'embolus', 'embolia', 'embolo'],
      ['ANEURYSM', 'aneurysm', 'aneurisma'],
      ['SEPSIS', 'sepsis'],
      ['DISLOCATION', 'dislocation', 'dislocated', 'luxacion', 'luxado'],
      ['OSTEOPOROSIS', 'osteoporosis'],
      ['ARTHRITIS', 'arthritis', 'artritis', 'osteoarthritis', 'artrosis'],
    ] as const
  ).map(([id, ...terms]) => ({ id, groundedBy: [], terms: [...terms] })),
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const MATCHERS = CONDITION_VOCABULARY.map((c) => ({
  concept: c,
  pattern: new RegExp(
    `(?<![\\p{L}\\p{N}])(?:${c.terms.map((t) => `${escape(t)}(?:s|es)?`).join('|')})(?![\\p{L}\\p{N}])`,
    'u',
  ),
}));

/** Conditions of the vocabulary a text names, by concept id. */
export function conditionsMentioned(text: string): string[] {
  const folded = foldText(text);
  return MATCHERS.filter((m) => m.pattern.test(folded)).map((m) => m.concept.id);
}

/** Concept ids the findings allow a note to name. */
export function groundedConditions(facts: NoteFacts): Set<string> {
  const labels = new Set(facts.findings.map((f) => f.label.toUpperCase()));
  return new Set(
    CONDITION_VOCABULARY.filter((c) => c.groundedBy.some((l) => labels.has(l))).map((c) => c.id),
  );
}

const UNCERTAINTY: Record<NoteLanguage, RegExp> = {
  en: /\b(may|might|could|possible|possibly|probably|likely|uncertain|uncertainty|not certain|not sure|can be wrong|can miss|not always right|suggests?)\b/,
  es: /\b(puede|pueden|podria|podrian|posible|posiblemente|probable|probablemente|incierto|incertidumbre|no es seguro|puede equivocarse|no siempre acierta|sugiere)\b/,
};
const OVERCLAIM: Record<NoteLanguage, RegExp> = {
  en: /\b(definitely|certainly|undoubtedly|without (a )?doubt|guaranteed?|100 ?%)/,
  es: /\b(definitivamente|sin (ninguna )?duda|con certeza|con toda seguridad|100 ?%)/,
};
const REVIEWER: Record<NoteLanguage, RegExp> = {
  en: /\b(doctors?|clinicians?|radiologists?|physicians?|specialists?)\b/,
  es: /\b(medic[oa]s?|radiolog[oa]s?|doctor(a|es)?|especialistas?)\b/,
};
const REVIEW_VERB: Record<NoteLanguage, RegExp> = {
  en: /\b(review\w*|check\w*|confirm\w*|verif\w*|look at|read)\b/,
  es: /\b(revis\w*|confirm\w*|comprob\w*|verific\w*|valid\w*)\b/,
};

/** Names of the checks every draft goes through. */
export type SafetyCheckName =
  'WELL_FORMED' | 'GROUNDED_CONDITIONS' | 'UNCERTAINTY_STATED' | 'CLINICIAN_REVIEW_STATED' | 'READABILITY';

/** The outcome of one check. */
export interface SafetyCheck {
  name: SafetyCheckName;
  passed: boolean;
  detail: string;
}

/** Every check of one draft; `passed` only when all passed. Stored with the note as JSON. */
export interface SafetyReport {
  passed: boolean;
  checks: SafetyCheck[];
  /** Conditions named by the draft that the findings do not contain. */
  ungroundedConditions: string[];
  readability: ReadabilityResult;
  /** Whether the readability target applied (patient notes) or was measured only (clinician notes). */
  readabilityEnforced: boolean;
}

/** Limits of a well-formed draft. */
const MIN_WORDS = 12;
const MAX_WORDS = 600;
const MAX_REPEAT = 4;

function wellFormed(text: string): SafetyCheck {
  const words = splitWords(text);
  const problems: string[] = [];
  if (words.length < MIN_WORDS) problems.push(`only ${words.length} words (at least ${MIN_WORDS})`);
  if (words.length > MAX_WORDS) problems.push(`${words.length} words (at most ${MAX_WORDS})`);
  const latin = words.filter((w) => !/[^\P{L}\p{Script=Latin}]/u.test(w)).length;
  if (words.length && latin / words.length < 0.95)
    problems.push(`${words.length - latin} words outside the Latin script`);
  let run = 1;
  let longest = 1;
  for (let i = 1; i < words.length; i++) {
    run = foldText(words[i]) === foldText(words[i - 1]) ? run + 1 : 1;
    longest = Math.max(longest, run);
  }
  if (longest > MAX_REPEAT) problems.push(`a word repeated ${longest} times in a row`);
  if (!/[.!?]\s*$/.test(text.trim())) problems.push('does not end with a full sentence');
  return { name: 'WELL_FORMED', passed: problems.length === 0, detail: problems.join('; ') || 'ok' };
}

/**
 * Runs every safety check on a draft, whatever backend wrote it: well-formed text, no condition the
 * findings do not contain, uncertainty stated (and no claim of certainty), the need for clinician
 * review stated, and for patient notes the readability target.
 */
export function checkDraft(
  text: string,
  facts: NoteFacts,
  audience: NoteAudience,
  language: NoteLanguage,
  targets: ReadabilityTargets,
): SafetyReport {
  const folded = foldText(text);
  const allowed = groundedConditions(facts);
  const ungrounded = conditionsMentioned(text).filter((c) => !allowed.has(c));
  const uncertain = UNCERTAINTY[language].test(folded);
  const overclaim = OVERCLAIM[language].exec(folded)?.[0] ?? null;
  const reviewSentence = splitSentences(folded).some(
    (s) => REVIEWER[language].test(s) && REVIEW_VERB[language].test(s),
  );
  const readability = measureReadability(text, language, targets);
  const enforced = audience === NoteAudience.PATIENT;
  const checks: SafetyCheck[] = [
    wellFormed(text),
    {
      name: 'GROUNDED_CONDITIONS',
      passed: ungrounded.length === 0,
      detail: ungrounded.length ? `names conditions not in the findings: ${ungrounded.join(', ')}` : 'ok',
    },
    {
      name: 'UNCERTAINTY_STATED',
      passed: uncertain && !overclaim,
      detail: overclaim
        ? `claims certainty ("${overclaim}")`
        : uncertain
          ? 'ok'
          : 'does not say the result is uncertain',
    },
    {
      name: 'CLINICIAN_REVIEW_STATED',
      passed: reviewSentence,
      detail: reviewSentence ? 'ok' : 'does not say a clinician must review the result',
    },
    {
      name: 'READABILITY',
      passed: !enforced || readability.passed,
      detail: `${readability.metric} ${readability.score} (target ${
        readability.metric === 'FLESCH_KINCAID_GRADE' ? '≤' : '≥'
      } ${readability.target}${enforced ? '' : ', not enforced for clinician notes'})`,
    },
  ];
  return {
    passed: checks.every((c) => c.passed),
    checks,
    ungroundedConditions: ungrounded,
    readability,
    readabilityEnforced: enforced,
  };
}
