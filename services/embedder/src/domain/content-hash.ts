import { hash } from 'node:crypto';

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

/**
 * SHA-256 hex of the normalised text: the duplicate key and embedding-cache key of a memory.
 * One-shot `hash`, not a `createHash` object per text: each such object is a native handle the
 * young-generation GC processes one by one, and per memory they made scavenges of up to ~50 ms.
 */
export function contentHash(text: string): string {
  return hash('sha256', normaliseForHash(text), 'hex');
}
