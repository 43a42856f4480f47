import { decode, emitEvent, type NatsConnection, notifyStore, type StreamItem } from '@membus/bus';
import {
  MembusError,
  Operations,
  PolicyChangedSchema,
  type StoreMemory,
  subjectWildcard,
  tenantOf,
} from '@membus/contracts';
import { compilePolicy, evaluatePolicy, type PolicyDecision } from '@membus/ingest-policy';
import type { KvPolicyStore, PolicyRegistry } from '@membus/ingest-policy/kv';
import type { OperationServer } from '@membus/service-runtime';

/** Decides each store by its tenant's ingest policy before it is embedded (decision 009). */
export interface PolicyGate {
  decide(tenant: string, store: StoreMemory): Promise<PolicyDecision<StoreMemory>>;
  /** Tells a waiting caller that its store was dropped (and why). */
  dropped(item: StreamItem<StoreMemory>, decision: PolicyDecision & { action: 'drop' }): void;
}

/** Distinct `rule` label values one process exports; later names count as `_other`. */
const MAX_RULE_LABELS = 200;

export function createPolicyGate(options: {
  nc: NatsConnection;
  registry: PolicyRegistry;
  onDecision: (action: 'drop' | 'annotate' | 'keep', rule: string) => void;
}): PolicyGate {
  const ruleLabels = new Set<string>();
  const label = (rule: string) => {
    if (ruleLabels.has(rule)) return rule;
    if (ruleLabels.size >= MAX_RULE_LABELS) return '_other';
    ruleLabels.add(rule);
    return rule;
  };
  return {
    async decide(tenant, store) {
      const policy = await options.registry.forTenant(tenant);
      const decision = evaluatePolicy(policy, store);
      if (decision.action === 'drop') options.onDecision('drop', label(decision.rule));
      else if (decision.rules.length === 0) options.onDecision('keep', 'none');
      else for (const rule of decision.rules) options.onDecision('annotate', label(rule));
      return decision;
    },
    dropped(item, decision) {
      notifyStore(options.nc, item.subject, item.headers, {
        v: 1,
        id: item.value.id,
        status: 'dropped',
        memoryId: item.value.id,
        policy: { version: decision.version, rule: decision.rule, reason: decision.reason },
      });
    },
  };
}

/**
 * Serves `memory.policy.get/put/history` and reloads a tenant's policy when any replica
 * changed it (`memory.policy.changed`). A put is compiled before it is written, so a policy
 * RE2 refuses is never stored; the replica that wrote it uses it from its reply on.
 */
export function servePolicies(options: {
  serve: OperationServer;
  nc: NatsConnection;
  store: KvPolicyStore;
  registry: PolicyRegistry;
  onBadEvent?: (error: unknown) => void;
}): { unsubscribe(): void } {
  const { serve, nc, store, registry } = options;
  serve(Operations.policyGet, async (request, { tenant }) => {
    const record =
      request.version === undefined
        ? await store.current(tenant)
        : await store.version(tenant, request.version);
    if (!record) {
      if (request.version !== undefined)
        throw new MembusError('NOT_FOUND', `policy version ${request.version} does not exist`, {
          details: { version: request.version },
        });
      return { v: 1 as const, version: 0 };
    }
    return {
      v: 1 as const,
      version: record.version,
      policy: record.policy,
      updatedAt: record.updatedAt,
    };
  });
  serve(Operations.policyPut, async (request, { tenant }) => {
    compilePolicy(request.policy);
    const record = await store.put(tenant, request.policy, request.expectedVersion);
    registry.set(tenant, compilePolicy(record.policy, record.version));
    emitEvent(nc, Operations.policyChanged, tenant, { version: record.version });
    return { v: 1 as const, version: record.version, updatedAt: record.updatedAt };
  });
  serve(Operations.policyHistory, async (request, { tenant }) => {
    const page = await store.history(tenant, { before: request.before, limit: request.limit });
    return {
      v: 1 as const,
      version: page.version,
      versions: page.entries,
      ...(page.nextBefore !== undefined ? { nextBefore: page.nextBefore } : {}),
    };
  });
  const subscription = nc.subscribe(subjectWildcard(Operations.policyChanged), {
    callback: (error, message) => {
      if (error) return;
      const tenant = tenantOf(message.subject);
      const decoded = decode(PolicyChangedSchema, message.data);
      if (!tenant || !decoded.ok) {
        options.onBadEvent?.(
          decoded.ok ? new Error(`no tenant in ${message.subject}`) : decoded.error,
        );
        return;
      }
      registry.invalidate(tenant, decoded.value.version);
    },
  });
  return subscription;
}
