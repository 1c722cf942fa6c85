/**
 * Readability formulas for note drafts: Flesch-Kincaid grade level for English and Szigriszt-Pazos
 * perspicuity (the INFLESZ scale) for Spanish, both over real syllable counts.
 */

/** Counts of one text, the inputs of every readability formula. */
export interface TextStatistics {
  words: number;
  sentences: number;
  syllables: number;
}

const LETTERS = /[\p{L}\p{N}]/u;

/** Splits a text into sentences: at `.`, `!`, `?`, `;` or `:` followed by a space, and at line breaks. */
export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?;:])\s+|\n+/u)
    .map((s) => s.trim())
    .filter((s) => LETTERS.test(s));
}

/** Word tokens of a text: runs without spaces that hold a letter or digit; hyphenated words stay whole. */
export function splitWords(text: string): string[] {
  return text
    .split(/\s+/u)
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((w) => LETTERS.test(w));
}

/** Number words are read digit by digit: one syllable per digit is the convention used here. */
function digitSyllables(word: string): number {
  return (word.match(/\p{N}/gu) ?? []).length;
}

/**
 * English syllables of one word by rule: vowel groups, minus a silent final `e` and silent `-es`/`-ed`
 * endings and a silent `e` before -ful/-ly/-ment/-less/-ness, plus the vowel pairs that are read as two syllables (`-ia`, `-io`, `-ua`, `-iu` as in
 * pneumonia, radio, usual, calcium). Hyphenated words add their parts.
 */
export function englishSyllables(word: string): number {
  if (word.includes('-'))
    return word
      .split('-')
      .filter(Boolean)
      .reduce((n, part) => n + englishSyllables(part), 0);
  const w = word.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (!w) return 0;
  if (/^[0-9]+$/.test(w)) return digitSyllables(w);
  if (!/[aeiouy]/.test(w)) return 1;
  if (w.length <= 3) return 1;
  let s = w.replace(/^y/, '');
  let count = (s.match(/[aeiouy]+/g) ?? []).length;
  if (/[^aeiouy]e$/.test(s) && !/[^aeiouy]le$/.test(s)) count -= 1;
  else if (/[^aeiouy]ed$/.test(s) && !/[td]ed$/.test(s)) count -= 1;
  else if (/[^aeiouy]es$/.test(s) && !/(?:[sxz]|[cs]h|[gc])es$/.test(s)) count -= 1;
  count -= (s.match(/.[^aeiouy]e(?:ful|ly|ment|less|ness)/g) ?? []).length;
  s = s.replace(/(?:[tsc]i[ao])/g, 'x');
  count += (s.match(/(?:ia|io|iu|[^q]ua|eo(?!p))/g) ?? []).length;
  return Math.max(1, count);
}

const ES_STRONG = new Set(['a', 'e', 'o', 'á', 'é', 'í', 'ó', 'ú']);
const ES_VOWEL = /[aeiouáéíóúü]/;

/**
 * Spanish syllables of one word: one per vowel nucleus. A weak vowel (unaccented i, u, ü) next to
 * another vowel forms a diphthong (one syllable); two strong vowels, or an accented í/ú, form a hiatus
 * (two syllables). The silent u of que/qui/gue/gui joins the next vowel and so needs no special case.
 */
export function spanishSyllables(word: string): number {
  const w = word.toLowerCase().replace(/[^a-záéíóúüñ0-9]/g, '');
  if (!w) return 0;
  if (/^[0-9]+$/.test(w)) return digitSyllables(w);
  let count = 0;
  let previous: string | null = null;
  for (const ch of w) {
    if (!ES_VOWEL.test(ch)) {
      previous = null;
      continue;
    }
    if (previous === null || (ES_STRONG.has(previous) && ES_STRONG.has(ch))) count += 1;
    previous = ch;
  }
  return Math.max(1, count);
}

/** Words, sentences and syllables of a text, with the language's syllable rules. */
export function textStatistics(text: string, syllablesOf: (word: string) => number): TextStatistics {
  const words = splitWords(text);
  return {
    words: words.length,
    sentences: Math.max(1, splitSentences(text).length),
    syllables: words.reduce((n, w) => n + syllablesOf(w), 0),
  };
}

/** Flesch-Kincaid grade level: 0.39 × words/sentence + 11.8 × syllables/word − 15.59 (US school grade). */
export function fleschKincaidGrade(s: TextStatistics): number {
  if (s.words === 0) return 0;
  return 0.39 * (s.words / s.sentences) + 11.8 * (s.syllables / s.words) - 15.59;
}

/**
 * Szigriszt-Pazos perspicuity: 206.835 − 62.3 × syllables/word − words/sentence. On the INFLESZ scale
 * 55-65 is "normal", 65-80 "fairly easy", above 80 "very easy"; health information should reach 55.
 */
export function szigrisztPazos(s: TextStatistics): number {
  if (s.words === 0) return 0;
  return 206.835 - 62.3 * (s.syllables / s.words) - s.words / s.sentences;
}

/** A readability measurement and whether it meets its target. */
export interface ReadabilityResult {
  metric: 'FLESCH_KINCAID_GRADE' | 'SZIGRISZT_PAZOS';
  score: number;
  /** FK: the highest grade allowed; Szigriszt-Pazos: the lowest score allowed. */
  target: number;
  passed: boolean;
  words: number;
  sentences: number;
  syllables: number;
}

/** Targets a patient note must meet, per metric. */
export interface ReadabilityTargets {
  maxGrade: number;
  minSzigriszt: number;
}

/** Measures a text in its language (`en` or `es`) against the targets. */
export function measureReadability(
  text: string,
  language: 'en' | 'es',
  targets: ReadabilityTargets,
): ReadabilityResult {
  const round = (v: number) => Math.round(v * 100) / 100;
  if (language === 'es') {
    const stats = textStatistics(text, spanishSyllables);
    const score = szigrisztPazos(stats);
    return {
      metric: 'SZIGRISZT_PAZOS',
      score: round(score),
      target: targets.minSzigriszt,
      passed: stats.words > 0 && score >= targets.minSzigriszt,
      ...stats,
    };
  }
  const stats = textStatistics(text, englishSyllables);
  const score = fleschKincaidGrade(stats);
  return {
    metric: 'FLESCH_KINCAID_GRADE',
    score: round(score),
    target: targets.maxGrade,
    passed: stats.words > 0 && score <= targets.maxGrade,
    ...stats,
  };
}
