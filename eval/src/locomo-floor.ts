/**
 * Calibration of the relevance floor (services/vector-store/src/domain/relevance-floor.ts) on
 * the LOCOMO split: how high the best cosine among a query's hits sits for questions about the
 * memories asked (related) and for questions about something else (unrelated), and what the
 * service's default floor does with each.
 *
 * - related: every question asked of its own conversation's user;
 * - other conversation: every question asked of the next conversation's user (same kind of
 *   talk, other people and events: hard negatives);
 * - off-topic: the questions below, asked of every conversation's user.
 *
 * Each is asked twice in hybrid mode (the default for a text query): with `minScore: 0` (no
 * floor) for the best cosine, and as the service answers by default.
 */
import type { MemoryClient } from '@membus/client';
import type { LocomoConversation } from './locomo-dataset.ts';
import { percentile } from './locomo-metrics.ts';

/** Questions no LOCOMO conversation is about: general knowledge, software, errands. */
export const OFF_TOPIC_QUESTIONS = [
  'What is the capital of Peru?',
  'How many moons does Jupiter have?',
  'What is the boiling point of mercury?',
  'Who wrote the Treaty of Westphalia?',
  'What is the time complexity of heapsort?',
  'How do I rotate a TLS certificate in Kubernetes?',
  'Which port does PostgreSQL listen on by default?',
  'What is the atomic number of tungsten?',
  'How do I configure a BGP session on a Cisco router?',
  'What is the exchange rate between the yen and the Swiss franc?',
  'When was the Hubble Space Telescope launched?',
  'What does the HTTP status code 418 mean?',
  'How is the derivative of arctan computed?',
  'What is the population of Mongolia?',
  'Which enzyme breaks down lactose?',
  'How do I fix a segmentation fault in a C program?',
  'What is the tallest mountain in Africa?',
  'Who discovered penicillin?',
  'What is the speed of sound in water?',
  'How many bytes are in an IPv6 address?',
  'What is the chemical formula of sulfuric acid?',
  'Which planet has the longest day?',
  'What is the default garbage collector of the JVM?',
  'How does a Kalman filter estimate state?',
  'What is the difference between TCP and UDP?',
  'Which river flows through Budapest?',
  'What is the half-life of carbon-14?',
  'How do I compile a Rust crate for WebAssembly?',
  'What is the GDP of Norway?',
  'Who was the first emperor of the Ming dynasty?',
  'What is the melting point of titanium?',
  'How do I enable two-factor authentication on a Linux SSH server?',
  'What are the rules of cricket leg before wicket?',
  'What is the main export of Chile?',
  'How does RAID 5 parity work?',
  'What is the Schwarzschild radius of the Sun?',
  'Which vitamin deficiency causes scurvy?',
  'What is the syntax of a SQL window function?',
  'How far is Mars from the Sun?',
  'What is the official language of Suriname?',
] as const;

export type FloorSet = 'related' | 'otherConversation' | 'offTopic';

interface Asked {
  /** The best cosine among the hits with no floor (undefined: no hit had one). */
  bestCosine: number | undefined;
  /** Whether the default (floored) query returned any hit. */
  answered: boolean;
}

export interface FloorReport {
  mode: 'hybrid';
  /** Best cosine among each query's hits with no floor, by set. */
  bestCosine: Record<FloorSet, { n: number; p1: number; p5: number; p50: number; p95: number }>;
  /**
   * For candidate floors: the share of related questions that keep their hits, and of the
   * unrelated ones that get none.
   */
  sweep: { floor: number; related: number; otherConversation: number; offTopic: number }[];
  /** What the service's default did: share of queries answered with at least one hit, by set. */
  answered: Record<FloorSet, number>;
}

const userOf = (conversation: LocomoConversation) => `locomo-${conversation.id}`;

export async function calibrateFloor(
  client: MemoryClient,
  conversations: LocomoConversation[],
  topK: number,
): Promise<FloorReport> {
  const ask = async (question: string, userId: string): Promise<Asked> => {
    const options = { topK, mode: 'hybrid' as const, filter: { userId } };
    const open = await client.query(question, { ...options, minScore: 0 });
    const floored = await client.query(question, options);
    const cosines = open.hits.flatMap((hit) =>
      hit.scores.dense !== undefined ? [hit.scores.dense] : [],
    );
    return {
      bestCosine: cosines.length > 0 ? Math.max(...cosines) : undefined,
      answered: floored.hits.length > 0,
    };
  };
  const sets: Record<FloorSet, Asked[]> = { related: [], otherConversation: [], offTopic: [] };
  for (const [position, conversation] of conversations.entries()) {
    const other = conversations[(position + 1) % conversations.length] as LocomoConversation;
    for (const { question } of conversation.questions) {
      sets.related.push(await ask(question, userOf(conversation)));
      if (other !== conversation) sets.otherConversation.push(await ask(question, userOf(other)));
    }
    for (const question of OFF_TOPIC_QUESTIONS)
      sets.offTopic.push(await ask(question, userOf(conversation)));
  }
  const cosinesOf = (asked: Asked[]) =>
    asked.flatMap((item) => (item.bestCosine !== undefined ? [item.bestCosine] : []));
  const share = (asked: Asked[], test: (item: Asked) => boolean) =>
    asked.length === 0 ? 0 : round(asked.filter(test).length / asked.length);
  const distribution = (asked: Asked[]) => {
    const cosines = cosinesOf(asked);
    return {
      n: asked.length,
      p1: round(percentile(cosines, 1)),
      p5: round(percentile(cosines, 5)),
      p50: round(percentile(cosines, 50)),
      p95: round(percentile(cosines, 95)),
    };
  };
  const kept = (floor: number) => (item: Asked) =>
    item.bestCosine === undefined || item.bestCosine >= floor;
  const candidates = Array.from({ length: 61 }, (_, step) => round(0.3 + step * 0.01));
  const hashFloors = Array.from({ length: 30 }, (_, step) => round(step * 0.01));
  return {
    mode: 'hybrid',
    bestCosine: {
      related: distribution(sets.related),
      otherConversation: distribution(sets.otherConversation),
      offTopic: distribution(sets.offTopic),
    },
    sweep: [...hashFloors, ...candidates].map((floor) => ({
      floor,
      related: share(sets.related, kept(floor)),
      otherConversation: share(sets.otherConversation, (item) => !kept(floor)(item)),
      offTopic: share(sets.offTopic, (item) => !kept(floor)(item)),
    })),
    answered: {
      related: share(sets.related, (item) => item.answered),
      otherConversation: share(sets.otherConversation, (item) => item.answered),
      offTopic: share(sets.offTopic, (item) => item.answered),
    },
  };
}

const round = (value: number) => Number(value.toFixed(3));
