import type { QueryHit } from '@membus/contracts';

export interface ContextOptions {
  /** Most characters of the block (default 2,000). */
  maxChars?: number;
  /** Metadata keys to show after each memory (default none). */
  metadataKeys?: readonly string[];
  /** Show the relevance score of each memory (default true). */
  scores?: boolean;
  /** First line of the block (default `Relevant memories:`). */
  header?: string;
}

export interface FormattedContext {
  /** The prompt block (empty when there are no hits). */
  text: string;
  /** How many memories it holds. */
  included: number;
  /** Memories left out because the budget ran out (a line says so in the block). */
  omitted: number;
  /** Whether a memory text was cut short to fit. */
  truncated: boolean;
}

/**
 * Turns query hits into a prompt block within a character budget, most relevant first, with
 * the relevance score and chosen metadata, and says when it left memories out.
 */
export function formatContext(
  hits: readonly QueryHit[],
  options: ContextOptions = {},
): FormattedContext {
  const maxChars = options.maxChars ?? 2_000;
  const header = options.header ?? 'Relevant memories:';
  if (hits.length === 0 || maxChars <= header.length + 1)
    return { text: '', included: 0, omitted: hits.length, truncated: false };
  const ordered = [...hits].sort((a, b) => b.score - a.score);
  const lines = [header];
  let used = header.length;
  let included = 0;
  let truncated = false;
  const omittedNote = (count: number) => `(${count} more not shown: context budget)`;
  for (const [index, hit] of ordered.entries()) {
    const details = [
      ...(options.scores === false ? [] : [`relevance ${hit.scores.relevance.toFixed(2)}`]),
      hit.memory.kind,
      ...(options.metadataKeys ?? [])
        .filter((key) => hit.memory.metadata[key] !== undefined)
        .map((key) => `${key}=${JSON.stringify(hit.memory.metadata[key])}`),
    ].join(', ');
    const prefix = `- [${details}] `;
    const text = hit.memory.text.replace(/\s+/g, ' ').trim();
    const remaining = ordered.length - index - 1;
    // Keep room for the "more not shown" note whenever memories could follow.
    const reserve = remaining > 0 ? omittedNote(remaining).length + 1 : 0;
    const room = maxChars - used - 1 - prefix.length - reserve;
    if (room <= 0) break;
    if (text.length <= room) {
      lines.push(prefix + text);
      used += 1 + prefix.length + text.length;
      included++;
      continue;
    }
    if (room >= 40) {
      lines.push(`${prefix}${text.slice(0, room - 1)}…`);
      used += 1 + prefix.length + room;
      included++;
      truncated = true;
    }
    break;
  }
  const omitted = ordered.length - included;
  if (omitted > 0) lines.push(omittedNote(omitted));
  return { text: lines.join('\n'), included, omitted, truncated };
}
