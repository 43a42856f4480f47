/** Readers for the operations files under test: compose, Prometheus, Grafana, env specs. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, type ServiceName, serviceNames } from '@membus/cli';
import { parse } from 'yaml';

export { repoRoot, serviceNames };

export function readYaml(path: string): unknown {
  return parse(readFileSync(join(repoRoot, path), 'utf8'), { merge: true });
}

export interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  profiles?: string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** Compose `${VAR}`, `${VAR:-default}` and `${VAR-default}` with an empty environment. */
export function interpolate(value: string): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (_match, _name, fallback) => String(fallback ?? ''),
  );
}

/** A service's environment as the container sees it (no variables set on the host). */
export function containerEnv(service: ComposeService): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [
      name,
      interpolate(String(value ?? '')),
    ]),
  );
}

/** Membus services in the compose file: those running `services/<name>/src/main.ts`. */
export function membusServices(compose: ComposeFile): [ServiceName, ComposeService][] {
  return serviceNames.flatMap((name) => {
    const service = compose.services[name];
    return service ? [[name, service] as [ServiceName, ComposeService]] : [];
  });
}

export const configPath = (service: ServiceName): string =>
  join(repoRoot, 'services', service, 'src', 'config.ts');

/** The service's env spec: the export of its `src/config.ts` named `<something>EnvSpec`. */
export async function envSpecOf(
  service: ServiceName,
): Promise<Record<string, { env: string; schema: unknown }>> {
  const module = (await import(configPath(service))) as Record<string, unknown>;
  const entry = Object.entries(module).find(([name]) => name.endsWith('EnvSpec'));
  if (!entry) throw new Error(`services/${service}/src/config.ts exports no *EnvSpec`);
  return entry[1] as Record<string, { env: string; schema: unknown }>;
}

export const hasConfig = (service: ServiceName): boolean => existsSync(configPath(service));
export const hasMain = (service: ServiceName): boolean =>
  existsSync(join(repoRoot, 'services', service, 'src', 'main.ts'));

export const dashboardsDir = join(repoRoot, 'infra', 'grafana', 'dashboards');

export function dashboardFiles(): string[] {
  return readdirSync(dashboardsDir).filter((file) => file.endsWith('.json'));
}
