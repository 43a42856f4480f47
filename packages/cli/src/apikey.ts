/** `membus apikey create|list|revoke`: the HTTP gateway's API keys (decision 007). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { apiKeysFile, FileApiKeyStore, TenancyDirectory } from '@membus/tenancy';
import { fail } from './command-line.ts';
import { localTenancyDir, values } from './context.ts';

const USAGE =
  'usage: membus apikey create --tenant T [--name N] | membus apikey list | membus apikey revoke KEY_ID';

export async function apiKeyCommand(args: readonly string[]): Promise<void> {
  const [action, keyId] = args;
  const dir = resolve(values.dir ?? localTenancyDir);
  const store = new FileApiKeyStore(apiKeysFile(dir));
  switch (action) {
    case 'create': {
      // Explicit: a key acts for its tenant until revoked, so the tenant is never a default.
      const tenant = values.tenant;
      if (!tenant) fail(`apikey create needs --tenant NAME\n${USAGE}`);
      let created: Awaited<ReturnType<FileApiKeyStore['create']>>;
      try {
        created = await store.create(tenant, values.name);
      } catch (error) {
        fail((error as Error).message);
      }
      process.stdout.write(`${created.key}\n`);
      process.stderr.write(
        `key ${created.info.id} for tenant "${tenant}"${values.name ? ` (${values.name})` : ''} in ${store.file}\n` +
          '  shown once: only its SHA-256 is kept. Use it as `Authorization: Bearer <key>`.\n',
      );
      if (existsSync(join(dir, 'tenancy.json'))) {
        const tenancy = await TenancyDirectory.open(dir);
        if (!tenancy.tenants.includes(tenant))
          process.stderr.write(
            `  tenant "${tenant}" has no account in ${dir} yet: the gateway answers 503 until \`membus tenant add ${tenant}\`\n`,
          );
      }
      return;
    }
    case 'list': {
      const keys = await store.list();
      if (keys.length === 0) {
        process.stdout.write(`no API keys in ${store.file}\n`);
        return;
      }
      for (const key of keys)
        process.stdout.write(
          `${key.id}  ${key.tenant}  ${key.name ?? '-'}  created ${key.createdAt}${key.revokedAt ? `  revoked ${key.revokedAt}` : ''}\n`,
        );
      return;
    }
    case 'revoke': {
      if (!keyId) fail(`apikey revoke needs the key id\n${USAGE}`);
      if (!(await store.revoke(keyId))) fail(`no API key ${keyId} in ${store.file}`);
      process.stdout.write(`revoked ${keyId}\n`);
      return;
    }
    default:
      fail(USAGE);
  }
}
