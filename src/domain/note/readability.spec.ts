import {
  englishSyllables,
  fleschKincaidGrade,
  measureReadability,
  spanishSyllables,
  splitSentences,
  splitWords,
  szigrisztPazos,
  textStatistics,
} from './readability';

describe('englishSyllables', () => {
  // Counts as given by Merriam-Webster's hyphenation.
  it.each([
    ['the', 1],
    ['cat', 1],
    ['cake', 1],
    ['table', 2],
    ['waited', 2],
    ['looked', 1],
    ['makes', 1],
    ['changes', 2],
    ['pneumonia', 4],
    ['radiologist', 5],
    ['radiologists', 5],
    ['tuberculosis', 5],
    ['fracture', 2],
    ['X-ray', 2],
    ['computer', 3],
    ['program', 2],
    ['infection', 3],
    ['doctor', 2],
    ['usual', 3],
    ['calcium', 3],
    ['video', 3],
    ['nation', 2],
    ['special', 2],
    ['people', 2],
    ['radiograph', 4],
    ['carefully', 3],
    ['statement', 2],
    ['review', 2],
    ['equal', 2],
    ['yes', 1],
    ['uncertain', 3],
    ['broken', 2],
    ['42', 2],
  ])('%s has %i', (word, n) => {
    expect(englishSyllables(word as string)).toBe(n);
  });
});

describe('spanishSyllables', () => {
  it.each([
    ['neumonía', 4],
    ['radiografía', 5],
    ['médico', 3],
    ['huesos', 2],
    ['radiólogo', 4],
    ['país', 2],
    ['ciudad', 2],
    ['que', 1],
    ['guerra', 2],
    ['leer', 2],
    ['poeta', 3],
    ['muy', 1],
    ['y', 1],
    ['infección', 3],
    ['pulmón', 2],
    ['tuberculosis', 5],
  ])('%s has %i', (word, n) => {
    expect(spanishSyllables(word as string)).toBe(n);
  });
});

describe('text statistics', () => {
  it('splits sentences at terminal punctuation and line breaks, and words at spaces', () => {
    expect(splitSentences('One. Two!  Three?\nFour: five')).toEqual([
      'One.',
      'Two!',
      'Three?',
      'Four:',
      'five',
    ]);
    expect(splitWords('A 3.5 cm X-ray, (TB) — done.')).toEqual(['A', '3.5', 'cm', 'X-ray', 'TB', 'done']);
  });

  it('computes the Flesch-Kincaid grade from the formula (hand-counted texts)', () => {
    const simple = textStatistics('The cat sat on the mat. The dog ran.', englishSyllables);
    expect(simple).toEqual({ words: 9, sentences: 2, syllables: 9 });
    expect(fleschKincaidGrade(simple)).toBeCloseTo(0.39 * 4.5 + 11.8 - 15.59, 10);
    const hard = textStatistics('Radiologists review radiographs carefully.', englishSyllables);
    expect(hard).toEqual({ words: 4, sentences: 1, syllables: 14 });
    expect(fleschKincaidGrade(hard)).toBeCloseTo(27.27, 2);
  });

  it('computes Szigriszt-Pazos from the formula (hand-counted text)', () => {
    const s = textStatistics('El médico lee la radiografía.', spanishSyllables);
    expect(s).toEqual({ words: 5, sentences: 1, syllables: 1 + 3 + 2 + 1 + 5 });
    expect(szigrisztPazos(s)).toBeCloseTo(206.835 - 62.3 * (12 / 5) - 5, 10);
  });

  it('grades long, polysyllabic sentences above the patient target and short plain ones below it', () => {
    const targets = { maxGrade: 8, minSzigriszt: 55 };
    const plain = measureReadability(
      'Your X-ray was read by a computer. A doctor will check it.',
      'en',
      targets,
    );
    expect(plain.passed).toBe(true);
    const dense = measureReadability(
      'Radiographic opacification demonstrates heterogeneous consolidation predominantly involving the inferior pulmonary segments bilaterally, necessitating clinicopathological correlation.',
      'en',
      targets,
    );
    expect(dense.score).toBeGreaterThan(20);
    expect(dense.passed).toBe(false);
    const denseEs = measureReadability(
      'La opacificación radiográfica heterogénea predominantemente bibasal evidencia consolidación parenquimatosa que requiere correlación clinicopatológica inmediata.',
      'es',
      targets,
    );
    expect(denseEs.metric).toBe('SZIGRISZT_PAZOS');
    expect(denseEs.passed).toBe(false);
    expect(measureReadability('', 'en', targets).passed).toBe(false);
  });
});
