/**
 * Typed arrays reused from call to call on one thread (each worker has its own module instance), for
 * intermediate results that never leave the synchronous code that fills them: a decode worker prepares
 * one film after another, and fresh arrays per film only feed the garbage collector. Each slot belongs
 * to one use (so two that are alive at once never share memory); above {@link SCRATCH_MAX} elements a
 * call gets an array of its own, so a thread keeps a few MiB at most. Old contents are left in place:
 * callers write before they read.
 */
export const SCRATCH_MAX = 1 << 20;

type Slot = 'display' | 'resizeRows' | 'resizeAccumulator' | 'equalized' | 'equalizeBins';
const arrays = new Map<Slot, Float32Array | Float64Array | Uint16Array>();

function take<T extends Float32Array | Float64Array | Uint16Array>(
  slot: Slot,
  n: number,
  make: (n: number) => T,
): T {
  if (n > SCRATCH_MAX) return make(n);
  let held = arrays.get(slot) as T | undefined;
  if (!held || held.length < n) arrays.set(slot, (held = make(n)));
  return held.subarray(0, n) as T;
}

/** `n` floats of `slot`. */
export const scratchF32 = (slot: Slot, n: number): Float32Array => take(slot, n, (k) => new Float32Array(k));
/** `n` doubles of `slot`. */
export const scratchF64 = (slot: Slot, n: number): Float64Array => take(slot, n, (k) => new Float64Array(k));
/** `n` 16-bit unsigned integers of `slot`. */
export const scratchU16 = (slot: Slot, n: number): Uint16Array => take(slot, n, (k) => new Uint16Array(k));
