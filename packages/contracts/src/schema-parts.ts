import { type core, z } from 'zod';
import { type Scope, scopeOwnerField } from './memory.ts';

// Pieces every message schema uses (internal to contracts).

/** The version literal of every version-1 message. */
export const v1 = z.literal(1);

/**
 * A version-1 message checked whole where it is read: a field its reader does not know is refused
 * (INVALID_MESSAGE), never dropped unseen — a misspelt `namespce` would otherwise store into the
 * default namespace. For what agents send (requests, stores, outcomes, ingests, policies) and
 * what one service hands another to act on.
 */
export function strictMessage<const Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject({ v: v1, ...shape });
}

/**
 * A version-1 message its readers take as far as they know it: fields they do not know are
 * passed over, so a field a newer sender adds does not break an older reader. For replies,
 * events and notices.
 */
export function openMessage<const Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object({ v: v1, ...shape });
}

/** A count: a whole number, zero or more. */
export const CountSchema = z.number().int().min(0);

/** Counts by key (by scope, kind, tier, namespace, ...). */
export const CountsSchema = z.record(z.string(), CountSchema);

/** Reports a refinement's finding as a custom issue on `field`. */
export function addIssue(context: core.$RefinementCtx, field: string, message: string): void {
  context.addIssue({ code: 'custom', path: [field], message });
}

/** Refinement of a message with owner fields: a scope that has an owner needs its id. */
export function checkScopeOwner(
  owners: { scope?: Scope | undefined } & Partial<
    Record<'userId' | 'agentId' | 'sessionId', string | undefined>
  >,
  context: core.$RefinementCtx,
): void {
  const owner = owners.scope === undefined ? undefined : scopeOwnerField[owners.scope];
  if (owner !== undefined && owners[owner] === undefined)
    addIssue(context, owner, `scope "${owners.scope}" needs ${owner}`);
}

/** An opaque page cursor, passed back for the next page. */
export const CursorSchema = z.string().max(512);

/**
 * A page of a listing (version 1): the items under `key`, and `nextCursor` to pass back as
 * `cursor` for the next page (absent on the last page).
 */
export function pageSchema<const Key extends string, Item extends z.ZodType>(key: Key, item: Item) {
  const items = { [key]: z.array(item) } as { [K in Key]: z.ZodArray<Item> };
  return openMessage({ ...items, nextCursor: z.string().optional() });
}
