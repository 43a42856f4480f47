// What the maintenance passes share: options, the change list, the lasting-knowledge rule.
import {
  Limits,
  type MemoryRecord,
  type RetentionPolicy,
  SWEEP_CHANGES_LISTED,
  type Sweep,
  type SweepChange,
  type SweepReport,
  type TierCapacity,
  type TierOverflowPolicy,
} from '@membus/contracts';
import type { EmbedPort } from '../ports/embed-port.ts';
import type { MemoryPort } from '../ports/memory-port.ts';

export const DAY_MS = 86_400_000;

/** The tag that marks a memory as permanent knowledge (USE-CASES §3). */
export const PERMANENT_TAG = 'permanent';

/**
 * Lasting knowledge — tagged `permanent`, or a pattern or preference — belongs in the long
 * tier: tier capacities never remove it and the importance rule never drops it.
 */
export function isLastingKnowledge(memory: MemoryRecord): boolean {
  return (
    memory.kind === 'pattern' || memory.kind === 'preference' || memory.tags.includes(PERMANENT_TAG)
  );
}

export interface ImportanceRule {
  /** Memories below this importance ... */
  below: number;
  /** ... and older than this many days are dropped. `below: 0` turns the rule off. */
  afterDays: number;
}

/** A change a pass made, as `membus_lifecycle_changes_total` counts it. */
export type LifecycleChange =
  | 'retention'
  | 'expired'
  | 'merged'
  | 'dropped'
  | 'promoted'
  | 'demoted'
  | 'archived'
  | 'deleted'
  | 'overflow_kept';

/** Which pass made a change: a sweep, or the handling of `memory.stored` events. */
export type ChangeSource = Sweep | 'store';

export interface MaintenanceOptions {
  memories: MemoryPort;
  embed: EmbedPort;
  retention: readonly RetentionPolicy[];
  capacity: (namespace: string | undefined) => TierCapacity;
  /** What a full tier does with its overflow (default: demote short and mid, keep long). */
  overflow?: (namespace: string | undefined) => TierOverflowPolicy;
  duplicateThreshold: (namespace: string | undefined) => number;
  importance: ImportanceRule;
  /** Keeps copies of memories an `archive` overflow policy removes from the index. */
  archive?: (tenant: string, records: readonly MemoryRecord[]) => Promise<void>;
  /** Changes made (never called for a dry run): for metrics. */
  onChanges?: (source: ChangeSource, changes: Partial<Record<LifecycleChange, number>>) => void;
  /** Most memories (newest first) one duplicate sweep or audit compares for near duplicates. */
  maxMemories?: number;
  /** Most memories of one owner, namespace and kind compared with each other (newest first). */
  duplicateWindow?: number;
  clock?: () => number;
}

export type SweepCounts = Omit<SweepReport, 'durationMs'>;

/** The changes one sweep report lists: the first {@link SWEEP_CHANGES_LISTED}, then a count. */
export class ChangeList {
  readonly listed: SweepChange[] = [];
  omitted = 0;

  add(change: SweepChange): void {
    if (this.listed.length < SWEEP_CHANGES_LISTED) this.listed.push(change);
    else this.omitted++;
  }
}

/** Memories per retention / duplicate step (one embed batch). */
export const STEP = Limits.embedBatch;

/** What every maintenance pass reads: the options and the clock. */
export interface MaintenanceContext {
  readonly options: MaintenanceOptions;
  readonly clock: () => number;
}

/** Reports a pass's changes to `onChanges` (never for a dry run, never when nothing changed). */
export function tally(
  context: MaintenanceContext,
  source: ChangeSource,
  dryRun: boolean,
  changes: Partial<Record<LifecycleChange, number>>,
): void {
  if (dryRun || !context.options.onChanges) return;
  if (Object.values(changes).some((count) => (count ?? 0) > 0))
    context.options.onChanges(source, changes);
}

export function shorten(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 197)}...`;
}

export function isNotFound(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'NOT_FOUND'
  );
}
