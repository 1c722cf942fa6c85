/**
 * The WebAssembly codecs (OpenJPEG, CharLS, libjpeg-turbo 8-bit) and the JPEG Lossless decoder.
 * Each WASM module is instantiated once per process (or worker) and reused; a decoder object is
 * created per frame and deleted afterwards so the WASM heap does not grow. A module whose runtime
 * aborted is dropped and re-instantiated on the next call.
 */

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  readHeader?(): void;
  decode(): void;
  getFrameInfo(): FrameInfo;
  delete(): void;
}

interface CodecModule {
  J2KDecoder?: new () => WasmDecoder;
  JpegLSDecoder?: new () => WasmDecoder;
  JPEGDecoder?: new () => WasmDecoder;
}

type Factory = (options?: Record<string, unknown>) => Promise<CodecModule>;

/** Samples decoded by a codec: little-endian 8 or 16-bit, interleaved when there are several components. */
export interface CodecOutput {
  width: number;
  height: number;
  bitsPerSample: number;
  components: number;
  signed: boolean;
  /** 8-bit samples, or the bytes of 16-bit little-endian samples. */
  bytes: Uint8Array;
}

type CodecName = 'openjpeg' | 'charls' | 'libjpeg-turbo';

const MODULE_PATHS: Record<CodecName, string> = {
  openjpeg: '@cornerstonejs/codec-openjpeg/decodewasmjs',
  charls: '@cornerstonejs/codec-charls/decodewasmjs',
  'libjpeg-turbo': '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
};

const modules = new Map<CodecName, Promise<CodecModule>>();

function load(name: CodecName): Promise<CodecModule> {
  let m = modules.get(name);
  if (!m) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const factory = require(MODULE_PATHS[name]) as Factory;
    m = factory({ print: () => undefined, printErr: () => undefined });
    m.catch(() => modules.delete(name));
    modules.set(name, m);
  }
  return m;
}

/** Instantiates every WASM codec now (e.g. at start-up, so the first upload is not slower). */
export async function warmUpCodecs(): Promise<void> {
  await Promise.all((Object.keys(MODULE_PATHS) as CodecName[]).map(load));
}

async function run(
  name: CodecName,
  ctor: keyof CodecModule,
  encoded: Uint8Array,
  readHeader: boolean,
): Promise<CodecOutput> {
  const mod = await load(name);
  const Decoder = mod[ctor];
  if (!Decoder) throw new Error(`${name} has no ${ctor}`);
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    if (readHeader && decoder.readHeader) decoder.readHeader();
    decoder.decode();
    const info = decoder.getFrameInfo();
    const decoded = decoder.getDecodedBuffer();
    return {
      width: info.width,
      height: info.height,
      bitsPerSample: info.bitsPerSample,
      components: info.componentCount,
      signed: Boolean(info.isSigned),
      bytes: decoded.slice(),
    };
  } catch (e) {
    if (e instanceof Error && e.name === 'RuntimeError') modules.delete(name);
    throw e;
  } finally {
    try {
      decoder.delete();
    } catch {
      modules.delete(name);
    }
  }
}

/** Decodes a JPEG 2000 (or HTJ2K) code stream with OpenJPEG. */
export function decodeJpeg2000(encoded: Uint8Array): Promise<CodecOutput> {
  return run('openjpeg', 'J2KDecoder', encoded, true);
}

/** Decodes a JPEG-LS (lossless or near-lossless) stream with CharLS. */
export function decodeJpegLs(encoded: Uint8Array): Promise<CodecOutput> {
  return run('charls', 'JpegLSDecoder', encoded, false);
}

/** Decodes an 8-bit JPEG (baseline, or extended with 8-bit precision) with libjpeg-turbo. */
export function decodeJpeg8(encoded: Uint8Array): Promise<CodecOutput> {
  return run('libjpeg-turbo', 'JPEGDecoder', encoded, true);
}

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
  xDim: number;
  yDim: number;
  numComp: number;
  precision: number;
}

/** Decodes a JPEG Lossless (process 14, any selection value) stream with jpeg-lossless-decoder-js. */
export function decodeJpegLossless(encoded: Uint8Array, bytesPerSample: number): CodecOutput {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Decoder } = require('jpeg-lossless-decoder-js') as { Decoder: new () => LosslessDecoder };
  const decoder = new Decoder();
  const out = decoder.decode(
    encoded.buffer as ArrayBuffer,
    encoded.byteOffset,
    encoded.byteLength,
    bytesPerSample,
  );
  return {
    width: decoder.xDim,
    height: decoder.yDim,
    bitsPerSample: decoder.precision,
    components: decoder.numComp,
    signed: false,
    bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength),
  };
}
