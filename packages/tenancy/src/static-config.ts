import * as authority from './authority.ts';

/**
 * A password in a static config: an environment variable nats-server resolves at start
 * (`$NAME`), or a bcrypt hash (the password itself is never written into the config).
 */
export type Secret = { env: string } | { bcrypt: string };

export interface StaticTenancy {
  services: Record<authority.ServiceUser, Secret>;
  admin: Secret;
  /** Tenant name -> its agent user's secret (user `agent-<tenant>`). */
  tenants: Record<string, Secret>;
}

export interface StaticConfigOptions {
  /** `host:port` to listen on; omitted, the command line or nats-server's default decides. */
  listen?: string;
  /** A header comment (what generated the file and how to change it). */
  header?: string;
}

/** The account of a tenant in the static config (a prefix keeps it apart from MEMBUS/SYS). */
export function tenantAccountName(tenant: string): string {
  return `tenant-${tenant}`;
}

export function agentUserName(tenant: string): string {
  return `agent-${tenant}`;
}

const quote = (value: string) => JSON.stringify(value);
const list = (values: readonly string[]) => `[${values.map(quote).join(', ')}]`;
const secret = (value: Secret) => ('env' in value ? `$${value.env}` : quote(value.bcrypt));

function user(
  name: string,
  password: Secret,
  permissions: authority.Permissions,
  indent: string,
): string {
  const lines = [
    `${indent}{`,
    `${indent}  user: ${quote(name)}`,
    `${indent}  password: ${secret(password)}`,
    `${indent}  permissions: {`,
    `${indent}    publish: { allow: ${list(permissions.publish)} }`,
    `${indent}    subscribe: { allow: ${list(permissions.subscribe)} }`,
  ];
  lines.push(`${indent}  }`, `${indent}}`);
  return lines.join('\n');
}

/**
 * Renders a complete nats-server config with tenancy on: the MEMBUS account (JetStream, one
 * user per service, the operators' `admin`), its exports, and one account per tenant with its
 * agent user and its imports. Exports are open to any account of this config (only the
 * operator writes it, and a tenant's imports name its own subjects); nats-server 2.9 wires a
 * new account's service imports only at start, so adding a tenant here means restarting the
 * server (JWT mode adds tenants live).
 */
export function renderStaticConfig(
  tenancy: StaticTenancy,
  options: StaticConfigOptions = {},
): string {
  const out: string[] = [];
  if (options.header) out.push(...options.header.split('\n').map((line) => `# ${line}`), '');
  if (options.listen) out.push(`listen: ${options.listen}`);
  out.push('jetstream: enabled', '', 'accounts {');
  out.push(`  ${authority.MEMBUS_ACCOUNT} {`, '    jetstream: enabled', '    users: [');
  for (const service of authority.serviceUsers) {
    out.push(
      user(service, tenancy.services[service], authority.servicePermissions(service), '      '),
    );
  }
  out.push(user('admin', tenancy.admin, authority.adminPermissions, '      '));
  out.push('    ]', '    exports: [');
  for (const subject of authority.tenantOperations)
    out.push(`      { service: ${quote(`${subject}.*`)} }`);
  for (const subject of authority.tenantEvents) out.push(`      { stream: ${quote(subject)} }`);
  out.push('    ]', '  }');
  for (const [tenant, password] of Object.entries(tenancy.tenants).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    const imports = authority.tenantImports(tenant);
    out.push(`  ${quote(tenantAccountName(tenant))} {`, '    users: [');
    out.push(user(agentUserName(tenant), password, authority.agentPermissions(tenant), '      '));
    out.push('    ]', '    imports: [');
    for (const subject of imports.services) {
      out.push(
        `      { service: { account: ${authority.MEMBUS_ACCOUNT}, subject: ${quote(subject)} } }`,
      );
    }
    for (const subject of imports.streams) {
      out.push(
        `      { stream: { account: ${authority.MEMBUS_ACCOUNT}, subject: ${quote(subject)} } }`,
      );
    }
    out.push('    ]', '  }');
  }
  out.push('}', '');
  return out.join('\n');
}
