import { readFile } from 'node:fs/promises';
import {
  KindSchema,
  LabelSchema,
  MemoryFilterSchema,
  OwnerFields,
  ScopeSchema,
  scopeOwnerField,
} from '@membus/contracts';
import { z } from 'zod';

export const questionCategories = [
  'paraphrase',
  'identifier',
  'error-string',
  'multi-scope',
  'recency',
  'filtered',
] as const;
export type QuestionCategory = (typeof questionCategories)[number];

const KeySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'keys are lower-case words joined by dashes');

export const EvalMemorySchema = z
  .strictObject({
    key: KeySchema,
    text: z.string().min(1),
    ...OwnerFields,
    /** Given, not inferred: a dataset says whose memory it is. */
    scope: ScopeSchema,
    kind: KindSchema,
    categories: z.array(LabelSchema).default([]),
    tags: z.array(LabelSchema).default([]),
    metadata: z.record(z.string(), z.unknown()).default({}),
    importance: z.number().min(0).max(1).default(0.5),
    /** How long ago the memory was written; becomes its createdAt/updatedAt. */
    ageHours: z.number().min(0).default(0),
  })
  .superRefine((memory, context) => {
    const owner = scopeOwnerField[memory.scope];
    if (owner !== undefined && memory[owner] === undefined)
      context.addIssue({
        code: 'custom',
        path: [owner],
        message: `scope "${memory.scope}" needs ${owner}`,
      });
  });
export type EvalMemory = z.output<typeof EvalMemorySchema>;

const Weight = z.number().min(0).max(1);

export const EvalQuestionSchema = z.strictObject({
  id: z.string().regex(/^q-\d{3}$/, 'question ids look like q-001'),
  text: z.string().min(1),
  category: z.enum(questionCategories),
  filter: MemoryFilterSchema.optional(),
  expected: z.array(KeySchema).min(1),
  /** Ranking weights passed with the query (each 0..1; absent ones take the service default). */
  weights: z
    .strictObject({
      relevance: Weight.optional(),
      recency: Weight.optional(),
      importance: Weight.optional(),
    })
    .optional(),
  /** Why the expected memories are right and what the traps are (for humans). */
  note: z.string().optional(),
});
export type EvalQuestion = z.output<typeof EvalQuestionSchema>;

export const EvalDatasetSchema = z
  .strictObject({
    $comment: z.string().optional(),
    memories: z.array(EvalMemorySchema).min(1),
    questions: z.array(EvalQuestionSchema).min(1),
  })
  .superRefine((dataset, context) => {
    // A memory's key and its text are each used once; a repeat names the first memory with it.
    const once = (field: 'key' | 'text', message: (value: string, first: number) => string) => {
      const firstIndex = new Map<string, number>();
      dataset.memories.forEach((memory, index) => {
        const first = firstIndex.get(memory[field]);
        if (first === undefined) firstIndex.set(memory[field], index);
        else
          context.addIssue({
            code: 'custom',
            path: ['memories', index, field],
            message: message(memory[field], first),
          });
      });
      return firstIndex;
    };
    const keys = once(
      'key',
      (key, first) => `duplicate memory key "${key}" (also memories[${first}])`,
    );
    once(
      'text',
      (_text, first) =>
        `same text as "${dataset.memories[first]?.key}": the store would merge them`,
    );
    const ids = new Set<string>();
    dataset.questions.forEach((question, index) => {
      if (ids.has(question.id))
        context.addIssue({
          code: 'custom',
          path: ['questions', index, 'id'],
          message: `duplicate question id "${question.id}"`,
        });
      ids.add(question.id);
      question.expected.forEach((key, position) => {
        if (!keys.has(key))
          context.addIssue({
            code: 'custom',
            path: ['questions', index, 'expected', position],
            message: `${question.id} expects "${key}", which is not a memory key`,
          });
      });
    });
  });
export type EvalDataset = z.output<typeof EvalDatasetSchema>;

/** Thrown for a file that is not a valid dataset; the message lists every problem. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

/** Validates parsed JSON as a dataset. */
export function parseDataset(json: unknown, source = 'dataset'): EvalDataset {
  const parsed = EvalDatasetSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .slice(0, 20)
    .map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  const more = parsed.error.issues.length - problems.length;
  throw new DatasetError(
    `${source} is not a valid retrieval dataset:\n${problems.join('\n')}${
      more > 0 ? `\n  … and ${more} more` : ''
    }`,
  );
}

/** Reads and validates a dataset file. */
export async function loadDataset(path: string): Promise<EvalDataset> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new DatasetError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DatasetError(`${path} is not JSON: ${(error as Error).message}`);
  }
  return parseDataset(json, path);
}

/** Question counts per category, in the order of `questionCategories`. */
export function countByCategory(dataset: EvalDataset): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const category of questionCategories) counts[category] = 0;
  for (const question of dataset.questions)
    counts[question.category] = (counts[question.category] ?? 0) + 1;
  return counts;
}
