/**
 * Issue 7, checks without Docker: the compose files follow the compose specification, every
 * service's compose env is an option of its config schema (and parses), and Prometheus
 * scrapes each service on the metrics port compose gives it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from '@membus/bus';
import { describe, expect, it } from 'vitest';
import { validate } from './json-schema.ts';
import {
  type ComposeFile,
  containerEnv,
  envSpecOf,
  hasConfig,
  interpolate,
  membusServices,
  readYaml,
  repoRoot,
  serviceNames,
} from './stack-files.ts';

const schema = JSON.parse(
  readFileSync(join(repoRoot, 'infra', 'docker', 'compose-spec.json'), 'utf8'),
) as Record<string, unknown>;
const compose = readYaml('docker-compose.yaml') as ComposeFile;

describe('docker-compose.yaml', () => {
  it('is valid against the compose specification schema', () => {
    expect(validate(schema, compose)).toEqual([]);
  });

  it('runs every membus service', () => {
    expect(membusServices(compose).map(([name]) => name)).toEqual([...serviceNames]);
  });

  it('starts every membus service from its compiled main.ts in the one image', () => {
    const commands = membusServices(compose).map(([name, service]) => [
      name,
      interpolate(service.image ?? ''),
      service.command,
    ]);
    expect(commands).toEqual(
      serviceNames.map((name) => [name, 'membus/service:local', [`services/${name}/dist/main.js`]]),
    );
  });
});

describe('infra/docker/Dockerfile', () => {
  const dockerfile = readFileSync(join(repoRoot, 'infra', 'docker', 'Dockerfile'), 'utf8');

  it('builds the packages (pnpm build) and runs them compiled, resolved to dist/', () => {
    expect([
      /&& pnpm build \\\n/.test(dockerfile),
      dockerfile.match(/^ENTRYPOINT .*$/m)?.[0],
      dockerfile.match(/^CMD .*$/m)?.[0],
    ]).toEqual([
      true,
      'ENTRYPOINT ["node", "--conditions=membus-dist", "--enable-source-maps"]',
      'CMD ["services/embedder/dist/main.js"]',
    ]);
  });
});

describe('infra/docker/compose.cluster.yaml', () => {
  it('is valid against the compose specification schema', () => {
    expect(validate(schema, readYaml('infra/docker/compose.cluster.yaml'))).toEqual([]);
  });
});

describe.each(serviceNames.map((name) => [name]))('compose env of %s', (name) => {
  const service = compose.services[name];
  const env = service ? containerEnv(service) : {};

  it.skipIf(!hasConfig(name))('names only options of its config schema', async () => {
    const known = new Set(Object.values(await envSpecOf(name)).map((option) => option.env));
    // Read by Node and glibc when the process starts, not by the service's config.
    const runtime = new Set(['NODE_OPTIONS', 'GLIBC_TUNABLES']);
    expect(
      Object.keys(env).filter((variable) => !known.has(variable) && !runtime.has(variable)),
    ).toEqual([]);
  });

  it.skipIf(!hasConfig(name))('parses with its config schema', async () => {
    const spec = (await envSpecOf(name)) as Parameters<typeof parseEnv>[0];
    expect(() => parseEnv(spec, env)).not.toThrow();
  });
});

describe('infra/prometheus/prometheus.yml', () => {
  const prometheus = readYaml('infra/prometheus/prometheus.yml') as {
    rule_files: string[];
    scrape_configs: {
      job_name: string;
      dns_sd_configs?: { names: string[]; port: number }[];
    }[];
  };

  it('scrapes each membus service on the METRICS_PORT compose gives it', () => {
    const scraped = prometheus.scrape_configs
      .filter((job) => (serviceNames as readonly string[]).includes(job.job_name))
      .flatMap((job) =>
        (job.dns_sd_configs ?? []).flatMap((sd) => sd.names.map((host) => `${host}:${sd.port}`)),
      )
      .sort();
    const composed = membusServices(compose)
      .map(([name, service]) => `${name}:${containerEnv(service).METRICS_PORT}`)
      .sort();
    expect(scraped).toEqual(composed);
  });

  it('loads the alert rules compose mounts', () => {
    expect(prometheus.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
  });
});
