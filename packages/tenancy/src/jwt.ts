import {
  type Account,
  createAccount,
  createOperator,
  createUser,
  type Export,
  encodeAccount,
  encodeActivation,
  encodeOperator,
  encodeUser,
  fmtCreds,
  fromSeed,
  type Import,
  type KeyPair,
  type OperatorLimits,
  type User,
} from '@nats-io/jwt';
import {
  adminPermissions,
  agentPermissions,
  MEMBUS_ACCOUNT,
  type Permissions,
  type ServiceUser,
  SYSTEM_ACCOUNT,
  tenantEvents,
  tenantImports,
  tenantOperations,
} from './authority.ts';

/**
 * Decentralised auth (nsc-style): an operator signs the accounts, each account signs its
 * users. The seeds are the authority; whoever holds them can add tenants. Kept by
 * {@link TenancyDirectory} in one file readable by its owner only.
 */
export interface JwtAuthority {
  operator: string;
  system: string;
  membus: string;
  /** Tenant name -> its account's seed. */
  tenants: Record<string, string>;
}

const seedOf = (key: KeyPair) => new TextDecoder().decode(key.getSeed());
const keyOf = (seed: string) => fromSeed(new TextEncoder().encode(seed));

export function createJwtAuthority(): JwtAuthority {
  return {
    operator: seedOf(createOperator()),
    system: seedOf(createAccount()),
    membus: seedOf(createAccount()),
    tenants: {},
  };
}

export function addTenantAccount(authority: JwtAuthority, tenant: string): string {
  const existing = authority.tenants[tenant];
  if (existing) return existing;
  const seed = seedOf(createAccount());
  authority.tenants[tenant] = seed;
  return seed;
}

export function publicKey(seed: string): string {
  return keyOf(seed).getPublicKey();
}

const unlimited: OperatorLimits = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};
const jetStreamUnlimited: OperatorLimits = {
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
};

export async function operatorJwt(authority: JwtAuthority): Promise<string> {
  return encodeOperator('membus', keyOf(authority.operator), {
    system_account: publicKey(authority.system),
  });
}

export async function systemAccountJwt(authority: JwtAuthority): Promise<string> {
  return encodeAccount(
    SYSTEM_ACCOUNT,
    keyOf(authority.system),
    { limits: unlimited },
    { signer: keyOf(authority.operator) },
  );
}

/**
 * The membus account: JetStream, and every tenant-facing subject exported privately: a tenant
 * account can import a subject only with an activation token the membus account signed for
 * that tenant and that subject.
 */
export async function membusAccountJwt(authority: JwtAuthority): Promise<string> {
  const exports: Export[] = [
    ...tenantOperations.map(
      (subject): Export => ({
        name: subject,
        subject: `${subject}.*`,
        type: 'service' as Export['type'],
        token_req: true,
      }),
    ),
    ...tenantEvents.map(
      (subject): Export => ({
        name: subject,
        subject,
        type: 'stream' as Export['type'],
        token_req: true,
      }),
    ),
  ];
  const account: Partial<Account> = {
    limits: { ...unlimited, ...jetStreamUnlimited },
    exports,
  };
  return encodeAccount(MEMBUS_ACCOUNT, keyOf(authority.membus), account, {
    signer: keyOf(authority.operator),
  });
}

/** A tenant's account: no JetStream, its own imports only, each with its activation token. */
export async function tenantAccountJwt(authority: JwtAuthority, tenant: string): Promise<string> {
  const seed = authority.tenants[tenant];
  if (!seed) throw new RangeError(`unknown tenant "${tenant}"`);
  const account = keyOf(seed);
  const membus = keyOf(authority.membus);
  const { services, streams } = tenantImports(tenant);
  const activation = (subject: string, kind: 'service' | 'stream') =>
    encodeActivation(`${tenant} ${subject}`, account, membus, kind, { subject });
  const imports: Import[] = [];
  // Services first, then streams: the order the account's imports have always had.
  const kinds = [
    ...services.map((subject) => [subject, 'service'] as const),
    ...streams.map((subject) => [subject, 'stream'] as const),
  ];
  for (const [subject, kind] of kinds) {
    imports.push({
      name: subject,
      subject,
      account: membus.getPublicKey(),
      type: kind as Import['type'],
      token: await activation(subject, kind),
    });
  }
  return encodeAccount(
    tenant,
    account,
    { limits: { ...unlimited, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 }, imports },
    { signer: keyOf(authority.operator) },
  );
}

function userClaims(permissions: Permissions): Partial<User> {
  return {
    pub: { allow: permissions.publish },
    sub: { allow: permissions.subscribe },
  };
}

/** A `.creds` file (user JWT + its seed) for a new user of the account `accountSeed`. */
export async function userCreds(
  name: string,
  accountSeed: string,
  permissions: Permissions | undefined,
): Promise<Uint8Array> {
  const user = createUser();
  const jwt = await encodeUser(
    name,
    user,
    keyOf(accountSeed),
    permissions ? userClaims(permissions) : {},
  );
  return fmtCreds(jwt, user);
}

export const serviceCreds = (
  authority: JwtAuthority,
  service: ServiceUser,
  permissions: Permissions,
) => userCreds(service, authority.membus, permissions);
export const adminCreds = (authority: JwtAuthority) =>
  userCreds('admin', authority.membus, adminPermissions);
export const systemCreds = (authority: JwtAuthority) =>
  userCreds('system', authority.system, undefined);

export function agentCreds(authority: JwtAuthority, tenant: string): Promise<Uint8Array> {
  const seed = authority.tenants[tenant];
  if (!seed) throw new RangeError(`unknown tenant "${tenant}"`);
  return userCreds(`agent-${tenant}`, seed, agentPermissions(tenant));
}

/**
 * The server side of JWT mode: trust the operator, resolve accounts from a directory (a
 * `full` resolver, so tenants pushed later survive restarts), preloaded with every account.
 */
export async function renderJwtConfig(
  authority: JwtAuthority,
  options: { resolverDir: string; listen?: string; header?: string },
): Promise<string> {
  const preload: [string, string][] = [
    [publicKey(authority.system), await systemAccountJwt(authority)],
    [publicKey(authority.membus), await membusAccountJwt(authority)],
  ];
  for (const tenant of Object.keys(authority.tenants).sort()) {
    preload.push([
      publicKey(authority.tenants[tenant] as string),
      await tenantAccountJwt(authority, tenant),
    ]);
  }
  const out: string[] = [];
  if (options.header) out.push(...options.header.split('\n').map((line) => `# ${line}`), '');
  if (options.listen) out.push(`listen: ${options.listen}`);
  out.push(
    'jetstream: enabled',
    `operator: ${await operatorJwt(authority)}`,
    `system_account: ${publicKey(authority.system)}`,
    'resolver: {',
    '  type: full',
    `  dir: ${JSON.stringify(options.resolverDir)}`,
    '  allow_delete: false',
    '  interval: "2m"',
    '}',
    'resolver_preload: {',
    ...preload.map(([key, jwt]) => `  ${key}: ${jwt}`),
    '}',
    '',
  );
  return out.join('\n');
}
