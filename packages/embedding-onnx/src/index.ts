export type { FetchModelOptions, OnnxModelName, OnnxModelSpec } from './models.ts';
export {
  defaultModelDirectory,
  fetchOnnxModel,
  MAVEN_CENTRAL,
  MODEL_FILE,
  ONNX_DEFAULT_MODEL,
  ONNX_MODEL_NAMES,
  ONNX_MODELS,
  onnxModelById,
  readZipEntries,
  TOKENIZER_FILE,
} from './models.ts';
export type {
  OnnxEmbeddingModel,
  OnnxEmbeddingModelOptions,
  OnnxPurpose,
} from './onnx-model.ts';
export { createOnnxEmbeddingModel } from './onnx-model.ts';
