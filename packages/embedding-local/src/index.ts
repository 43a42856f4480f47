/**
 * membus's offline embedding: stemmed word unigrams, content-word bigrams, whole identifiers
 * and character 3-5-grams, sign-hashed into `dimension` buckets and L2-normalised. No model,
 * no network, deterministic: good at shared words and exact identifiers, blind to synonyms.
 *
 * The embedder serves it as its `local` provider; the vector-store computes query vectors with
 * it in process once the embedder has said it runs this model (no round trip for a pure
 * function). Both must produce the same vector for the same text, hence one package.
 */

export const LOCAL_DEFAULT_DIMENSION = 384;

/** The model id the embedder reports for this embedding at a dimension. */
export function localModelId(dimension: number): string {
  return `local-hash-v1-${dimension}`;
}

/** Whether `dimension` is one this embedding can have. */
export function isLocalDimension(dimension: number): boolean {
  return Number.isInteger(dimension) && dimension >= 8 && dimension <= 65_536;
}

// Feature weights, tuned on the labelled agent-memory set in
// services/embedder/test/local-provider.test.ts.
const WEIGHT_STEM = 1.0;
const WEIGHT_IDENTIFIER = 1.4;
const WEIGHT_BIGRAM = 0.55;
/** L2 mass of one word's character n-grams, whatever its length. */
const WEIGHT_CHARS = 0.75;
const STOP_WORD_FACTOR = 0.12;
// Pure numbers (times, counts, durations) say little about what a memory is about; exact
// numeric identifiers are found by the keyword leg of hybrid search instead.
const NUMBER_FACTOR = 0.25;
const NUMERIC = /^[\p{N}\p{P}]+$/u;
const MAX_WORD_FOR_CHARS = 48;

// Distinct seeds keep feature families apart in hash space.
const SEED_STEM = 0x1b873593;
const SEED_IDENTIFIER = 0x27d4eb2f;
const SEED_BIGRAM = 0x165667b1;
const SEED_CHARS = 0x2c1b3c6d;
const SEED_FALLBACK = 0x7f4a7c15;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

// Words of letters, digits and marks; identifiers like `react-dom`, `v1.2.3`,
// `ERR_CONNECTION_REFUSED`, `user@host` stay one token (their parts are used too);
// each pictograph (emoji) is a token of its own.
const TOKEN_PATTERN =
  /[\p{L}\p{N}\p{M}]+(?:[-_./:@'\u2019][\p{L}\p{N}\p{M}]+)*|\p{Extended_Pictographic}/gu;
const PART_SEPARATOR = /[-_./:@'\u2019]/u;

const STOP_WORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being ' +
    'below between both but by can could did do does doing down during each few for from further ' +
    'had has have having he her here hers herself him himself his how i if in into is it its itself ' +
    'just me more most my myself no nor not now of off on once only or other our ours ourselves out ' +
    'over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which ' +
    'while who whom why will with would you your yours yourself yourselves s t d ll m re ve ' +
    "also us via per let get got it's i'm don't doesn't didn't can't won't isn't"
  ).split(' '),
);

const SUFFIXES: readonly (readonly [string, string])[] = [
  ['ational', 'ate'],
  ['ization', 'ize'],
  ['ations', 'ate'],
  ['ation', 'ate'],
  ['ments', ''],
  ['ment', ''],
  ['ingly', ''],
  ['ings', ''],
  ['ing', ''],
  ['edly', ''],
  ['ied', 'y'],
  ['ies', 'y'],
  ['ions', ''],
  ['ion', ''],
  ['ures', ''],
  ['ure', ''],
  ['ers', ''],
  ['er', ''],
  ['ed', ''],
  ['ly', ''],
  ['es', ''],
  ['s', ''],
];

/** A light suffix stripper: deploy/deployed/deploying/deployment share a stem. */
export function stem(word: string): string {
  if (word.length <= 4) return word;
  for (const [suffix, replacement] of SUFFIXES) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      if (suffix === 's' && (word.endsWith('ss') || word.endsWith('us') || word.endsWith('is'))) {
        return word;
      }
      return word.slice(0, word.length - suffix.length) + replacement;
    }
  }
  return word;
}

function fnv1a(text: string, seed: number): number {
  let hash = (FNV_OFFSET ^ seed) >>> 0;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash;
}

/** murmur3's finaliser: spreads FNV's weak low bits over the whole word. */
function mix(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

function addHashed(vector: Float32Array, hash: number, weight: number): void {
  const mixed = mix(hash);
  const bucket = (mixed >>> 1) % vector.length;
  vector[bucket] = (vector[bucket] as number) + ((mixed & 1) === 0 ? weight : -weight);
}

const charBuffer = new Uint16Array(MAX_WORD_FOR_CHARS + 2);

/** Character 3-, 4- and 5-grams of `\u0002word\u0003`, together of L2 mass ≈ `weight`. */
function addCharNgrams(vector: Float32Array, word: string, weight: number): void {
  const length = Math.min(word.length, MAX_WORD_FOR_CHARS) + 2;
  charBuffer[0] = 2;
  for (let index = 1; index < length - 1; index++) charBuffer[index] = word.charCodeAt(index - 1);
  charBuffer[length - 1] = 3;
  // 3-grams: length-2, 4-grams: length-3, 5-grams: length-4 (when positive).
  const count = Math.max(length - 2, 0) + Math.max(length - 3, 0) + Math.max(length - 4, 0);
  if (count === 0) return;
  const each = weight / Math.sqrt(count);
  for (let start = 0; start + 3 <= length; start++) {
    let hash = (FNV_OFFSET ^ SEED_CHARS) >>> 0;
    const end = Math.min(start + 5, length);
    for (let position = start; position < end; position++) {
      hash ^= charBuffer[position] as number;
      hash = Math.imul(hash, FNV_PRIME);
      if (position - start >= 2) addHashed(vector, hash, each);
    }
  }
}

function sublinear(count: number): number {
  return 1 + Math.log(count);
}

/** The embedding of one text; exported for benchmarks and tests. */
export function embedLocal(text: string, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  const normalised = text.normalize('NFKC').toLowerCase();
  const words = new Map<string, number>();
  const identifiers = new Map<string, number>();
  const bigrams = new Map<number, number>();
  let previousStem: number | undefined;

  for (const match of normalised.matchAll(TOKEN_PATTERN)) {
    const token = match[0];
    const parts = PART_SEPARATOR.test(token) ? token.split(PART_SEPARATOR) : [token];
    if (parts.length > 1) identifiers.set(token, (identifiers.get(token) ?? 0) + 1);
    for (const part of parts) {
      if (part.length === 0) continue;
      words.set(part, (words.get(part) ?? 0) + 1);
      if (STOP_WORDS.has(part)) continue;
      const stemHash = fnv1a(stem(part), SEED_STEM);
      if (previousStem !== undefined) {
        const pair = Math.imul(previousStem, 0x9e3779b1) ^ stemHash ^ SEED_BIGRAM;
        bigrams.set(pair, (bigrams.get(pair) ?? 0) + 1);
      }
      previousStem = stemHash;
    }
  }

  if (words.size === 0) {
    // Nothing word-like (punctuation, symbols, empty): characters of the text itself.
    const trimmed = normalised.trim();
    if (trimmed.length === 0) addHashed(vector, SEED_FALLBACK, 1);
    else addCharNgrams(vector, trimmed, 1);
    for (let start = 0; start < trimmed.length; start++) {
      addHashed(vector, fnv1a(trimmed[start] as string, SEED_FALLBACK), 0.5);
    }
    return normalise(vector);
  }

  for (const [word, count] of words) {
    const factor =
      sublinear(count) *
      (STOP_WORDS.has(word) ? STOP_WORD_FACTOR : NUMERIC.test(word) ? NUMBER_FACTOR : 1);
    addHashed(vector, fnv1a(stem(word), SEED_STEM), WEIGHT_STEM * factor);
    addCharNgrams(vector, word, WEIGHT_CHARS * factor);
  }
  for (const [identifier, count] of identifiers) {
    const factor = NUMERIC.test(identifier) ? NUMBER_FACTOR : 1;
    addHashed(
      vector,
      fnv1a(identifier, SEED_IDENTIFIER),
      WEIGHT_IDENTIFIER * sublinear(count) * factor,
    );
  }
  for (const [pair, count] of bigrams) {
    addHashed(vector, pair, WEIGHT_BIGRAM * sublinear(count));
  }
  return normalise(vector);
}

function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let index = 0; index < vector.length; index++) {
    const value = vector[index] as number;
    sum += value * value;
  }
  if (sum === 0 || !Number.isFinite(sum)) {
    // Every feature cancelled out (vanishingly rare): a fixed direction, still unit length.
    vector.fill(0);
    vector[0] = 1;
    return vector;
  }
  const scale = 1 / Math.sqrt(sum);
  for (let index = 0; index < vector.length; index++) {
    vector[index] = (vector[index] as number) * scale;
  }
  return vector;
}
