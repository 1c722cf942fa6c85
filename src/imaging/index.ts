/**
 * Radiograph decoding: PNG, JPEG and DICOM into one grayscale image, plus the model preprocessing
 * contract. The only folder that imports sharp, dicom-parser and the pixel codecs.
 */
export type {
  DecodedImage,
  DecodedImageInfo,
  DicomAttributes,
  DicomIdentifiers,
  ImageFormat,
  ImageLimits,
  VoiWindow,
} from './image.types';
export { detectFormat } from './detect-format';
export { decodeImage, inspectImage } from './decode-image';
export { displayRange, displayWindow, pixelStats, withDisplayRange } from './pixel-ops';
export {
  equalizeHistogram,
  instanceNormalize,
  intensityHistogram,
  modelInputOf,
  PREPROCESSING_SPEC,
  PREPROCESSING_SPEC_V2,
  PREPROCESSING_SPEC_V3,
  PREPROCESSING_SPEC_V3_NOEQ,
  PREPROCESSING_SPECS,
  resizeBilinear,
  toDisplayGray,
  toModelInput,
  toModelTensor,
} from './preprocessing/model-preprocessing';
export type { GrayImage, ModelInput, PreprocessingId } from './preprocessing/model-preprocessing';
export { cropToTissue, TISSUE_CROP, tissueCropBox } from './preprocessing/tissue-crop';
export type { TissueBox } from './preprocessing/tissue-crop';
export { transferSyntaxName } from './dicom/transfer-syntax';
export { warmUpCodecs } from './codecs/wasm-codecs';
export { renderHeatmapPng } from './heatmap';
export type { ActivationGrid } from './heatmap';
export { deidentifyImage, renderTrainingPng } from './deidentify-image';
export type { DeidentifiedImage } from './deidentify-image';
export { deidentifyDicom, remapUid } from './dicom/deidentify';
export type { DeidentifyOptions } from './dicom/deidentify';
export { readDicomIdentity } from './dicom/dicom-header';
export type { DicomIdentity } from './dicom/dicom-header';
