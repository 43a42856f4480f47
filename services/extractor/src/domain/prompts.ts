import type { Turn } from '@membus/contracts';

/** Named on every fact's provenance: change it whenever a prompt below changes. */
export const PROMPT_VERSION = 'extract-v1';

/** Most characters of conversation sent in one extraction call (older turns are left out). */
const MAX_INPUT_CHARS = 48_000;

/** A turn as the model sees it: its id (given or positional), role and text. */
export interface PromptTurn {
  id: string;
  role: Turn['role'];
  content: string;
}

export function factsSystemPrompt(options: {
  instructions?: string | undefined;
  categories?: readonly string[] | undefined;
}): string {
  const lines = [
    'You extract durable facts from a conversation for the long-term memory of an AI agent.',
    'A fact is one short, self-contained statement in the third person that stays true after',
    'the conversation: preferences, decisions, outcomes, root causes, relations between',
    'systems, steps that worked. Keep names, ids, numbers and error messages exactly.',
    'Leave out greetings, small talk, questions without an answer, and anything only true for',
    'a moment. Return no fact when there is nothing worth keeping.',
    'Answer with JSON only: {"facts":[{"text":"...","category":null,"sources":["<turn id>"],"importance":0.5}]}.',
  ];
  if (options.categories && options.categories.length > 0)
    lines.push(
      `Give each fact the one category that fits from: ${options.categories.join(', ')}; null when none fits.`,
    );
  if (options.instructions) lines.push(`Instructions of this memory: ${options.instructions}`);
  return lines.join('\n');
}

/** The conversation, one line per turn (`[id] role: text`), newest kept when cut. */
export function factsUserPrompt(turns: readonly PromptTurn[]): string {
  const lines: string[] = [];
  let used = 0;
  for (const turn of [...turns].reverse()) {
    const line = `[${turn.id}] ${turn.role}: ${turn.content.replace(/\s+/g, ' ')}`;
    if (used + line.length + 1 > MAX_INPUT_CHARS && lines.length > 0) break;
    lines.push(line);
    used += line.length + 1;
  }
  return `Conversation, oldest first:\n${lines.reverse().join('\n')}`;
}

export const DECISIONS_SYSTEM_PROMPT = [
  'You keep the long-term memory of an AI agent consistent. For each new fact, compare it',
  'with the known memories and decide:',
  'ADD: it is new information;',
  "UPDATE: it refines or changes a known memory about the same thing (give that memory's id",
  'and the combined text);',
  "DELETE: it contradicts a known memory, which is no longer true (give that memory's id);",
  "NONE: a known memory already says it (give that memory's id).",
  'Use only the ids listed. One decision per new fact.',
  'Answer with JSON only: {"decisions":[{"fact":0,"event":"ADD","id":null,"text":null}]}.',
].join('\n');

export function decisionsUserPrompt(
  facts: readonly string[],
  known: readonly { id: string; text: string }[],
): string {
  const lines = ['Known memories:'];
  if (known.length === 0) lines.push('(none)');
  for (const memory of known) lines.push(`[${memory.id}] ${memory.text.replace(/\s+/g, ' ')}`);
  lines.push('New facts:');
  facts.forEach((fact, index) => {
    lines.push(`${index}. ${fact}`);
  });
  return lines.join('\n');
}
