import { createHash } from 'node:crypto';

/**
 * The text as it is compared for duplicates: Unicode NFKC, trimmed, every run of
 * whitespace collapsed to one space, lower-cased (locale-independent).
 *
 * Case-insensitive on purpose: "Deploy to Vercel" and "deploy to vercel" are the same
 * memory for an agent, and should merge into one record (`occurrences`) instead of two.
 */
export function normaliseForHash(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
}

/** SHA-256 hex of the normalised text: the duplicate key and embedding-cache key of a memory. */
export function contentHash(text: string): string {
  return createHash('sha256').update(normaliseForHash(text), 'utf8').digest('hex');
}
