import type { PreprocessingId } from '../../imaging';

/**
 * The raw class-activation map of one view, as a prediction stores it (a few hundred bytes): the grid
 * at the model's feature resolution, float32 little-endian in base64, and what rendering its heatmap
 * needs later (the image, the model's input contract, the film's proportions, the finding it names).
 */
export interface StoredCam {
  label: string;
  imageId: string;
  /** The model's square input side and preprocessing: the film is prepared again under them to draw over. */
  size: number;
  preprocessing: PreprocessingId;
  /** Width / height the map is stretched back to (1 for a tissue-cropped input). */
  aspect: number;
  width: number;
  height: number;
  /** `width × height` float32 values, little-endian, base64. */
  data: string;
}

/** A CAM grid and its rendering context as a {@link StoredCam}. */
export function encodeCam(
  grid: { width: number; height: number; data: Float32Array },
  context: Omit<StoredCam, 'width' | 'height' | 'data'>,
): StoredCam {
  const values = Float32Array.from(grid.data);
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  if (isBigEndian) bytes.swap32();
  return { ...context, width: grid.width, height: grid.height, data: bytes.toString('base64') };
}

/** The grid of a {@link StoredCam}; a record whose data does not fill its grid is a RangeError. */
export function decodeCam(cam: StoredCam): { width: number; height: number; data: Float32Array } {
  const bytes = Buffer.from(cam.data, 'base64');
  if (bytes.length !== cam.width * cam.height * 4)
    throw new RangeError('stored CAM size does not match its grid');
  if (isBigEndian) bytes.swap32();
  const data = new Float32Array(cam.width * cam.height);
  new Uint8Array(data.buffer).set(bytes);
  return { width: cam.width, height: cam.height, data };
}

const isBigEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 0;
