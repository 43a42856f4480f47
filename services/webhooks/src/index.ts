export type { WebhooksConfig } from './config.ts';
export { loadWebhooksConfig, webhooksEnvSpec } from './config.ts';
export type { ResolvedTarget, ResolveTarget } from './domain/address-guard.ts';
export { addressGuard, isPrivateAddress } from './domain/address-guard.ts';
export type { HttpPost, PostResult } from './domain/http-post.ts';
export { nodeHttpPost } from './domain/http-post.ts';
export type { SignedHeaders } from './domain/signature.ts';
export { newWebhookSecret, signWebhook, verifyWebhook } from './domain/signature.ts';
export type {
  DeliveryHooks,
  DispatcherOptions,
  EndpointRecord,
  EndpointStore,
  EventDelivery,
} from './domain/webhook-dispatcher.ts';
export { WebhookDispatcher } from './domain/webhook-dispatcher.ts';
export { WebhookMetricNames } from './metrics.ts';
