/**
 * LOCOMO conversations (snap-research/locomo, one JSON file per conversation) as membus sees
 * them: every turn a memory of the conversation's user, every question of categories 1-4 with
 * the turns (`dia_id`s) that hold its answer. The measure is in `locomo-metrics.ts`.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';

/** LOCOMO's question categories; 5 (adversarial: no answer in the conversation) is not asked. */
export const locomoCategories = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
} as const;
export type LocomoCategory = (typeof locomoCategories)[keyof typeof locomoCategories];
/** The categories in LOCOMO's order, as reports list them. */
export const locomoCategoryOrder: readonly LocomoCategory[] = Object.values(locomoCategories);

const TurnSchema = z.looseObject({
  speaker: z.string().min(1),
  dia_id: z.string().min(1),
  text: z.string(),
  blip_caption: z.string().optional(),
});

const QuestionSchema = z.looseObject({
  question: z.string().min(1),
  evidence: z.array(z.string()).default([]),
  category: z.number().int(),
  answer: z.unknown().optional(),
});

const ConversationFileSchema = z.looseObject({
  speaker_a: z.string().min(1),
  speaker_b: z.string().min(1),
  qa: z.array(QuestionSchema),
});

export interface LocomoTurn {
  /** `D<session>:<turn>`, as the questions' evidence names it. */
  diaId: string;
  session: number;
  speaker: string;
  /** What is stored: `Speaker: text`, and the shared photo's caption where there is one. */
  text: string;
  /** The session's date and time as ISO 8601 (read as UTC: LOCOMO gives no zone). */
  sessionDate: string;
  /**
   * The text of the turn before it in the same session (absent for a session's first): stored
   * as the memory's keyword-only `context`, since an answer ("Yes, last Tuesday!") often shares
   * no word with the question while the turn it answers does.
   */
  previous?: string;
}

export interface LocomoQuestion {
  /** `<conversation>/<position in qa>`. */
  id: string;
  question: string;
  category: LocomoCategory;
  /** Evidence turn ids, normalised, each naming a turn of the conversation. */
  evidence: string[];
}

export interface LocomoConversation {
  /** The file name without `.json`, e.g. `26`. */
  id: string;
  speakers: [string, string];
  turns: LocomoTurn[];
  questions: LocomoQuestion[];
  /** Questions of categories 1-4 left out because no evidence id names a turn. */
  skippedQuestions: number;
  /** Evidence ids (of the questions kept) that name no turn, dropped from the measure. */
  droppedEvidence: string[];
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** `1:56 pm on 8 May, 2023` -> `2023-05-08T13:56:00.000Z`; undefined when not in that form. */
export function parseSessionDate(value: string): string | undefined {
  const match = /^(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([a-z]+),?\s+(\d{4})$/i.exec(
    value.trim(),
  );
  if (!match) return undefined;
  const [, hour, minute, half, day, month, year] = match as unknown as string[];
  const monthIndex = MONTHS.indexOf((month as string).toLowerCase());
  if (monthIndex === -1) return undefined;
  const hour12 = Number(hour) % 12;
  const hours = (half as string).toLowerCase() === 'pm' ? hour12 + 12 : hour12;
  const ms = Date.UTC(Number(year), monthIndex, Number(day), hours, Number(minute));
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * The turn ids in one evidence entry, normalised: LOCOMO has a few entries with two ids
 * (`D8:6; D9:17`) and a few typos (`D:11:26`).
 */
export function evidenceIds(entry: string): string[] {
  return entry
    .split(/[;,\s]+/)
    .map((id) => /^D:?(\d+):(\d+)$/.exec(id))
    .filter((match) => match !== null)
    .map((match) => `D${Number(match[1])}:${Number(match[2])}`);
}

/** One conversation file, parsed; throws with the file name when it is not LOCOMO's format. */
export function parseConversation(id: string, raw: unknown): LocomoConversation {
  const parsed = ConversationFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`${id}: not a LOCOMO conversation (${parsed.error.issues[0]?.message})`);
  const file = parsed.data as Record<string, unknown> & z.output<typeof ConversationFileSchema>;
  const turns: LocomoTurn[] = [];
  const sessions = Object.keys(file)
    .map((key) => /^session_(\d+)$/.exec(key))
    .filter((match) => match !== null)
    .map((match) => Number(match[1]))
    .sort((a, b) => a - b);
  for (const session of sessions) {
    const rawDate = file[`session_${session}_date_time`];
    const sessionDate = typeof rawDate === 'string' ? parseSessionDate(rawDate) : undefined;
    if (sessionDate === undefined)
      throw new Error(`${id}: session ${session} has no readable date (${String(rawDate)})`);
    const sessionTurns = z.array(TurnSchema).safeParse(file[`session_${session}`]);
    if (!sessionTurns.success) throw new Error(`${id}: session ${session} is not a list of turns`);
    for (const turn of sessionTurns.data) {
      const caption = turn.blip_caption?.trim();
      const said = turn.text.trim();
      const text = [said, caption ? `[shares a photo: ${caption}]` : ''].filter(Boolean).join(' ');
      if (text === '') continue;
      const before = turns.at(-1);
      turns.push({
        diaId: turn.dia_id,
        session,
        speaker: turn.speaker,
        text: `${turn.speaker}: ${text}`,
        sessionDate,
        ...(before !== undefined && before.session === session ? { previous: before.text } : {}),
      });
    }
  }
  const known = new Set(turns.map((turn) => turn.diaId));
  const questions: LocomoQuestion[] = [];
  const droppedEvidence: string[] = [];
  let skippedQuestions = 0;
  file.qa.forEach((question, position) => {
    const category = locomoCategories[question.category as keyof typeof locomoCategories];
    if (category === undefined) return;
    const ids = [...new Set(question.evidence.flatMap(evidenceIds))];
    const evidence = ids.filter((evidenceId) => known.has(evidenceId));
    if (evidence.length === 0) {
      skippedQuestions++;
      return;
    }
    droppedEvidence.push(...ids.filter((evidenceId) => !known.has(evidenceId)));
    questions.push({ id: `${id}/${position}`, question: question.question, category, evidence });
  });
  return {
    id,
    speakers: [file.speaker_a, file.speaker_b],
    turns,
    questions,
    skippedQuestions,
    droppedEvidence,
  };
}

/** Every `*.json` conversation in `directory`, in file-name order. */
export async function loadLocomo(directory: string): Promise<LocomoConversation[]> {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.json')).sort();
  if (names.length === 0) throw new Error(`${directory}: no LOCOMO conversation (*.json) in it`);
  return Promise.all(
    names.map(async (name) =>
      parseConversation(
        basename(name, '.json'),
        JSON.parse(await readFile(join(directory, name), 'utf8')),
      ),
    ),
  );
}
