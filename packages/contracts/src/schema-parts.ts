import { type core, z } from 'zod';

// Pieces every message schema uses (internal to contracts).

/** The version literal of every version-1 message. */
export const v1 = z.literal(1);

/** A count: a whole number, zero or more. */
export const CountSchema = z.number().int().min(0);

/** Counts by key (by scope, kind, tier, namespace, ...). */
export const CountsSchema = z.record(z.string(), CountSchema);

/** Reports a refinement's finding as a custom issue on `field`. */
export function addIssue(context: core.$RefinementCtx, field: string, message: string): void {
  context.addIssue({ code: 'custom', path: [field], message });
}

/** An opaque page cursor, passed back for the next page. */
export const CursorSchema = z.string().max(512);
