import { extractionEventValues } from '@membus/contracts';
import { z } from 'zod';

// What the model must answer, checked (never trusted): the candidate facts of a conversation,
// then a decision per fact against the owner's known memories.

/** Longest fact kept (characters); longer ones are cut at a word. */
export const FACT_MAX_CHARS = 2_000;

export const FactsAnswerSchema = z.object({
  facts: z
    .array(
      z.object({
        /** One self-contained statement. */
        text: z.string().trim().min(1),
        /** One of the namespace's categories, if any fits. */
        category: z.string().nullish(),
        /** The ids of the turns it was drawn from. */
        sources: z.array(z.string()).nullish(),
        /** 0..1: how much it matters later. */
        importance: z.number().min(0).max(1).nullish(),
      }),
    )
    .max(100),
});
export type FactsAnswer = z.infer<typeof FactsAnswerSchema>;

export const DecisionsAnswerSchema = z.object({
  decisions: z
    .array(
      z.object({
        /** The index of the candidate fact. */
        fact: z.number().int().min(0),
        event: z.enum(extractionEventValues),
        /** The known memory's short id (UPDATE, DELETE, NONE). */
        id: z.string().nullish(),
        /** The rewritten text (UPDATE). */
        text: z.string().nullish(),
      }),
    )
    .max(200),
});
export type DecisionsAnswer = z.infer<typeof DecisionsAnswerSchema>;

/**
 * An object as strict structured outputs want it (OpenAI `strict: true`): every property
 * required, no others.
 */
function strictObject<const Properties extends Record<string, unknown>>(properties: Properties) {
  return {
    type: 'object',
    additionalProperties: false,
    required: Object.keys(properties) as (keyof Properties & string)[],
    properties,
  } as const;
}

/** The JSON Schemas sent as `response_format: json_schema` (strict where providers allow). */
export const FactsJsonSchema = strictObject({
  facts: {
    type: 'array',
    items: strictObject({
      text: { type: 'string' },
      category: { type: ['string', 'null'] },
      sources: { type: 'array', items: { type: 'string' } },
      importance: { type: 'number' },
    }),
  },
});

export const DecisionsJsonSchema = strictObject({
  decisions: {
    type: 'array',
    items: strictObject({
      fact: { type: 'integer' },
      event: { type: 'string', enum: [...extractionEventValues] },
      id: { type: ['string', 'null'] },
      text: { type: ['string', 'null'] },
    }),
  },
});

/**
 * The JSON object in a model's answer, tolerant of what small models wrap around it (code
 * fences, a sentence before or after): the first `{` to its matching `}`. Undefined when there
 * is none or it does not parse.
 */
export function jsonObjectIn(content: string): unknown {
  const start = content.indexOf('{');
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let index = start; index < content.length; index++) {
    const character = content[index];
    if (inString) {
      if (character === '\\') index++;
      else if (character === '"') inString = false;
    } else if (character === '"') inString = true;
    else if (character === '{') depth++;
    else if (character === '}' && --depth === 0) {
      try {
        return JSON.parse(content.slice(start, index + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The answer checked by `schema`, or why it is not one (for the dead letter's reason). */
export function parseAnswer<S extends z.ZodType>(
  schema: S,
  content: string,
): { ok: true; value: z.output<S> } | { ok: false; reason: string } {
  const json = jsonObjectIn(content);
  if (json === undefined)
    return { ok: false, reason: `no JSON object in the answer: ${preview(content)}` };
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    reason: `answer does not match the schema (${issue?.path.join('.') || '(root)'}: ${issue?.message}): ${preview(content)}`,
  };
}

function preview(content: string): string {
  const flat = content.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 160)}…` : flat || '(empty)';
}

/** At most `FACT_MAX_CHARS`, cut at a word boundary when one is near. */
export function boundedFact(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= FACT_MAX_CHARS) return flat;
  const cut = flat.slice(0, FACT_MAX_CHARS);
  const space = cut.lastIndexOf(' ');
  return (space > FACT_MAX_CHARS * 0.8 ? cut.slice(0, space) : cut).trimEnd();
}
