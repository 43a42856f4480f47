import type { OutcomeConfig } from '@membus/contracts';

/** Longest error signature kept (characters). */
const SIGNATURE_LENGTH = 240;

// Order matters: the wider shapes (URLs, paths, UUIDs) are replaced before their parts
// (hex runs, numbers) would break them up.
const ERROR_RULES: readonly [RegExp, string][] = [
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`)\]]+/gi, '<url>'],
  [/\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g, '<email>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  [/'[^'\n]{0,200}'|"[^"\n]{0,200}"|`[^`\n]{0,200}`/g, '<value>'],
  [/(?:[a-z]:\\|\\\\)[^\s:'"`]+/gi, '<path>'],
  [/(?:~|\.{1,2})?(?:\/[\w@.+-]+){2,}\/?/g, '<path>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/g, '<ip>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  // Hashes: 7+ hex characters with at least one digit and one letter (git shas, digests).
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b/gi, '<hex>'],
  // Ids with digits glued to words: `req_8f2k9`, `build-12345`, `pod-7d9f8b-x2x4l`.
  [/\b(?=[\w-]*\d)[a-z]+[_-][\w-]+\b/gi, '<id>'],
  [/[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?/gi, '<n>'],
];

/**
 * An error text with the parts that vary between occurrences of one failure (urls, emails,
 * UUIDs, quoted values, paths, IPs, hashes, ids, numbers) replaced by placeholders,
 * lower-cased and whitespace-collapsed: equal signatures are the same failure.
 */
export function errorSignature(error: string): string {
  let text = error.split('\n').find((line) => line.trim().length > 0) ?? error;
  for (const [pattern, placeholder] of ERROR_RULES) text = text.replace(pattern, placeholder);
  return text
    .toLowerCase()
    .replace(/(?:<n>\s*){2,}/g, '<n> ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, SIGNATURE_LENGTH);
}

/** Word tokens of a signature (placeholders kept as tokens). */
function signatureTokens(signature: string): Set<string> {
  return new Set(signature.match(/<\w+>|[\p{L}\p{N}_]+/gu) ?? []);
}

/** Jaccard similarity of two signatures' token sets, 0..1. */
export function signatureSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const left = signatureTokens(a);
  const right = signatureTokens(b);
  let shared = 0;
  for (const token of left) if (right.has(token)) shared++;
  const union = left.size + right.size - shared;
  return union === 0 ? 1 : shared / union;
}

/** A step as compared between runs: lower case, collapsed whitespace, no volatile values. */
export function normaliseStep(step: string): string {
  let text = step;
  for (const [pattern, placeholder] of ERROR_RULES.slice(0, 3)) {
    text = text.replace(pattern, placeholder);
  }
  return text
    .toLowerCase()
    .replace(/[\s_]+/g, ' ')
    .replace(/[.;:,!]+$/, '')
    .trim();
}

export const STEP_SEPARATOR = ' → ';

/** The workflow variant of a step list: its normalised steps joined by ` → ` (empty: none). */
export function stepsSignature(steps: readonly string[]): string {
  return steps.map(normaliseStep).filter(Boolean).join(STEP_SEPARATOR);
}

/** The config variant: `key=value` pairs sorted by key, string values lower-cased. */
export function configSignature(config: OutcomeConfig): string {
  return Object.keys(config)
    .sort()
    .map((key) => {
      const value = config[key];
      return `${key}=${typeof value === 'string' ? value.trim().toLowerCase() : String(value)}`;
    })
    .join(', ');
}
