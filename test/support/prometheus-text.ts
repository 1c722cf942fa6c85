/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: its samples and the family names with their declared types. */
export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;

/**
 * Parses the Prometheus text format (version 0.0.4, what prom-client writes): `# TYPE` lines, and
 * sample lines with escaped label values. Throws on a line it cannot read, so a malformed exposition
 * fails the test that scraped it.
 */
export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (line.startsWith('#')) {
      const t = line.match(/^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/);
      if (t) types.set(t[1], t[2]);
      else if (!line.startsWith('# HELP ')) throw new Error(`unreadable comment line: ${line}`);
      continue;
    }
    const m = line.match(SAMPLE);
    if (!m) throw new Error(`unreadable sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      LABEL.lastIndex = 0;
      let consumed = 0;
      for (let l = LABEL.exec(m[3]); l; l = LABEL.exec(m[3])) {
        labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        consumed = LABEL.lastIndex;
      }
      if (consumed !== m[3].length) throw new Error(`unreadable labels: ${line}`);
    }
    // Prometheus reads values with Go's ParseFloat: NaN and Inf in any case (prom-client writes `Nan`).
    const raw = m[4].toLowerCase();
    const value = /^[+]?inf$/.test(raw)
      ? Infinity
      : raw === '-inf'
        ? -Infinity
        : raw === 'nan'
          ? NaN
          : Number(m[4]);
    if (Number.isNaN(value) && raw !== 'nan') throw new Error(`unreadable value: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types };
}

/** Sum of the samples named `name` whose labels include `labels` (0 when none match). */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number {
  return matching(exposition, name, labels).reduce((sum, s) => sum + s.value, 0);
}

/** Samples named `name` whose labels include `labels`. */
export function matching(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** Names a PromQL selector may use for the families of an exposition (histogram/summary series included). */
export function seriesNames(exposition: Exposition): Set<string> {
  const names = new Set(exposition.samples.map((s) => s.name));
  for (const [family, type] of exposition.types) {
    names.add(family);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(family + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(family + suffix);
  }
  return names;
}
