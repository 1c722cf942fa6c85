/* Formatting of figures, times and drift signal names. */

/** Titles of the drift signals, in the order the drift panel draws them. */
export var SIGNAL_TITLES = {
  embedding: 'Embedding (image content)',
  confidence: 'Confidence',
  intensity_mean: 'Mean intensity',
  image_size: 'Image size',
  predicted_class: 'Predicted class mix',
  intensity_histogram: 'Intensity histogram',
  bit_depth: 'Bit depth',
  format: 'File format',
};

/** The drift signals in drawing order. */
export var SIGNAL_ORDER = Object.keys(SIGNAL_TITLES);

/** A signal's title, or its name when it has none. */
export function signalTitle(signal) {
  return SIGNAL_TITLES[signal] || signal;
}

/** Local time of day (hh:mm:ss) of an ISO instant. */
export function fmtTime(iso) {
  var d = new Date(iso);
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A number with `digits` decimals (3 by default), tiny ones in exponent form, none as a dash. */
export function fmtNum(v, digits) {
  if (v === null || v === undefined) return '–';
  if (v !== 0 && Math.abs(v) < 0.001) return v.toExponential(1);
  return Number(v).toFixed(digits === undefined ? 3 : digits);
}

/** A proportion as a percentage with one decimal, none as a dash. */
export function pct(v) {
  return v === null || v === undefined ? '–' : (v * 100).toFixed(1) + '%';
}

/** An estimate `{ value, lower, upper }` as a percentage with its interval. */
export function withInterval(e) {
  if (!e || e.value === null) return '–';
  return pct(e.value) + (e.lower !== null ? ' [' + pct(e.lower) + ', ' + pct(e.upper) + ']' : '');
}
