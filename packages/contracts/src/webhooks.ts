import { z } from 'zod';
import { MemoryRecordSchema, TimestampSchema } from './memory.ts';
import { openMessage, strictMessage } from './schema-parts.ts';
import { changeValues } from './store-messages.ts';

// Webhooks (decision 008): per-tenant HTTP endpoints that receive the tenant's change events,
// signed the Standard Webhooks way. Endpoints are managed by operators over
// `memory.webhooks.<tenant>` (the `membus webhook` command), not by agents.

/** An endpoint URL: http or https, no credentials in it. */
export const WebhookUrlSchema = z
  .string()
  .max(2_048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === 'https:' || url.protocol === 'http:') &&
        url.username === '' &&
        url.password === ''
      );
    } catch {
      return false;
    }
  }, 'an http(s) URL without credentials');

/** What an endpoint is sent: these changes of memories (default: all). */
export const WebhookEventsSchema = z.array(z.enum(changeValues)).min(1);

/** An endpoint as listed (its secret is shown once, when it is added). */
export const WebhookEndpointSchema = z.object({
  /** The endpoint's id (UUID). */
  id: z.uuid(),
  url: WebhookUrlSchema,
  /** The changes it receives. */
  events: WebhookEventsSchema,
  createdAt: TimestampSchema,
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpointSchema>;

/** Add, list or remove a tenant's endpoints. */
export const WebhooksRequestSchema = z.discriminatedUnion('action', [
  strictMessage({
    action: z.literal('add'),
    url: WebhookUrlSchema,
    /** Changes to send (default: all). */
    events: WebhookEventsSchema.optional(),
  }),
  strictMessage({ action: z.literal('list') }),
  strictMessage({
    action: z.literal('remove'),
    /** The endpoint's id. */
    id: z.uuid(),
  }),
]);
export type WebhooksRequest = z.infer<typeof WebhooksRequestSchema>;
export type WebhooksRequestInput = z.input<typeof WebhooksRequestSchema>;

export const WebhooksReplySchema = openMessage({
  /** The tenant's endpoints after the request. */
  endpoints: z.array(WebhookEndpointSchema),
  /** (add) The new endpoint's signing secret, `whsec_<base64>`: shown this once. */
  secret: z.string().optional(),
  /** (add) The new endpoint's id. */
  id: z.uuid().optional(),
  /** (remove) Whether the endpoint existed. */
  removed: z.boolean().optional(),
});
export type WebhooksReply = z.infer<typeof WebhooksReplySchema>;

/**
 * The body POSTed to an endpoint (Standard Webhooks: `type`, `timestamp`, `data`), with headers
 * `webhook-id` (the same for every retry of one event to one endpoint: de-duplicate on it),
 * `webhook-timestamp` (seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>" under the endpoint's secret>`).
 */
export const WebhookPayloadSchema = z.object({
  /** `memory.<change>`, e.g. `memory.created`. */
  type: z.string(),
  timestamp: TimestampSchema,
  data: z.object({
    tenant: z.string(),
    /** The event's sequence in the stream (orders events; retries may reorder deliveries). */
    seq: z.number().int().min(1),
    change: z.enum(changeValues),
    /** The memory's id. */
    id: z.uuid(),
    /** The memory after the change (absent for deletions). */
    memory: MemoryRecordSchema.optional(),
  }),
});
export type WebhookPayload = z.infer<typeof WebhookPayloadSchema>;
