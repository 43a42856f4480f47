/** `membus start`: the local stack (nats-server with tenancy on, the services). */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { TenancyDirectory } from '@membus/tenancy';
import { fail } from './command-line.ts';
import { config, dataDir, localTenancyDir, natsUrl, tenant } from './context.ts';
import {
  availableServices,
  gatewayName,
  metricsPortOffset,
  portFree,
  probeNats,
  runningBuilt,
  type ServiceProcess,
  type ServiceRuntime,
  serviceEntry,
  type serviceNames,
  startLocalNats,
  startService,
} from './stack.ts';

/** The HTTP API's port when neither --gateway-port nor GATEWAY_PORT names one. */
const DEFAULT_GATEWAY_PORT = 8080;

/** Fails in one line when one of the stack's ports is taken, naming the option that moves it. */
async function checkPortsFree(ports: { port: number; what: string; option: string }[]) {
  for (const { port, what, option } of ports) {
    // Services bind their metrics on 0.0.0.0 (METRICS_HOST); nats-server and the gateway's
    // API on 127.0.0.1.
    if (!(await portFree(port, what === 'NATS' || what === 'HTTP API' ? '127.0.0.1' : '0.0.0.0')))
      fail(`port ${port} (${what}) is taken: choose another with ${option}`);
  }
}

export async function start(): Promise<void> {
  const runtime: ServiceRuntime = runningBuilt ? 'built' : 'source';
  const metricsPortOf = (name: (typeof serviceNames)[number]) =>
    config.metricsPortBase + metricsPortOffset[name];
  const names = availableServices(runtime);
  // The HTTP gateway (decision 007): base+4, between the pipeline's services and the extractor.
  const gatewayMetricsPort = config.metricsPortBase + metricsPortOffset.gateway;
  const gatewayPort = config.gatewayPort ?? DEFAULT_GATEWAY_PORT;
  let gateway = existsSync(serviceEntry(gatewayName, runtime).main);
  /** Why the gateway does not run, told once the stack runs (a failed start prints only its error). */
  let gatewaySkipped: string | undefined;
  // Asked for (--gateway-port / GATEWAY_PORT), a taken port fails like any other; by default
  // the stack starts without the gateway and says why in one line.
  if (gateway && config.gatewayPort === undefined) {
    const ports = [
      {
        port: gatewayPort,
        host: '127.0.0.1',
        what: 'HTTP API',
        option: '--gateway-port N (or GATEWAY_PORT)',
      },
      {
        port: gatewayMetricsPort,
        host: '0.0.0.0',
        what: 'gateway metrics',
        option: '--metrics-port-base N (or METRICS_PORT_BASE)',
      },
    ];
    for (const { port, host, what, option } of ports) {
      if (!gateway || (await portFree(port, host))) continue;
      gateway = false;
      gatewaySkipped = `port ${port} (${what}) is taken: the HTTP gateway is not started (choose another with ${option})\n`;
    }
  }
  await checkPortsFree([
    ...names.map((name) => ({
      port: metricsPortOf(name),
      what: `${name} metrics`,
      option: '--metrics-port-base N (or METRICS_PORT_BASE)',
    })),
    // The default gateway port was probed above, and a port taken since is handled where the
    // gateway starts: checked again here it failed the stack when another stack starting at the
    // same moment held it for its own probe.
    ...(gateway && config.gatewayPort !== undefined
      ? [
          {
            port: gatewayMetricsPort,
            what: 'gateway metrics',
            option: '--metrics-port-base N (or METRICS_PORT_BASE)',
          },
          {
            port: gatewayPort,
            what: 'HTTP API',
            option: '--gateway-port N (or GATEWAY_PORT)',
          },
        ]
      : []),
  ]);
  let nats: ChildProcess | undefined;
  let url = natsUrl;
  // With a server of its own, the stack runs with tenancy on: accounts in DATA/tenancy.
  let tenancy: TenancyDirectory | undefined;
  const found = await probeNats(natsUrl);
  if (found === 'open' || (found === 'refused' && config.natsUrl)) {
    process.stdout.write(`using NATS at ${natsUrl} (credentials from NATS_CREDS / NATS_USER)\n`);
  } else if (found === 'refused') {
    fail(
      `port ${config.natsPort} (NATS) is taken by a server that wants credentials (another stack?): choose another with --nats-port N, or set NATS_URL and NATS_CREDS to use it`,
    );
  } else {
    url = `nats://127.0.0.1:${config.natsPort}`;
    await checkPortsFree([
      { port: config.natsPort, what: 'NATS', option: '--nats-port N (or MEMBUS_NATS_PORT)' },
    ]);
    tenancy = await TenancyDirectory.open(localTenancyDir, { mode: 'jwt' });
    await tenancy.addTenant(tenant);
    process.stdout.write(
      `no NATS at ${natsUrl}; starting nats-server on ${url} (JetStream in ${dataDir}/nats, accounts in ${localTenancyDir})\n`,
    );
    try {
      nats = await startLocalNats({
        port: config.natsPort,
        storeDir: `${dataDir}/nats`,
        configFile: tenancy.configFile,
        probe: tenancy.admin(),
      });
    } catch (error) {
      fail((error as Error).message);
    }
  }
  process.stdout.write(
    runtime === 'built'
      ? 'services run compiled (dist/ from `pnpm build`)\n'
      : 'services run from their TypeScript sources through tsx (no current build: `pnpm build` compiles them)\n',
  );
  const services: ServiceProcess[] = [];
  const stopAll = async () => {
    await Promise.all(services.map((service) => service.stop()));
    if (nats && nats.exitCode === null) {
      const exited = new Promise((resolveExit) => nats?.once('exit', resolveExit));
      nats.kill('SIGTERM');
      await exited;
    }
  };
  try {
    for (const name of names) {
      services.push(
        await startService(name, {
          runtime,
          env: {
            NATS_URL: url,
            ...(tenancy?.serviceEnv(name) ?? {}),
            MEMBUS_DATA_DIR: dataDir,
            METRICS_PORT: String(metricsPortOf(name)),
            EMBEDDING_OFFLINE_PROVIDER: config.embeddingOfflineProvider,
          },
          // The embedder may fetch its model (34 MB) on the first start.
          ...(name === 'embedder' ? { readyTimeoutMs: 300_000 } : {}),
          onLog: (service, line) => process.stdout.write(`${service.padEnd(12)} ${line}\n`),
        }),
      );
    }
    // The HTTP gateway: no NATS user of its own; it reads the API keys and the tenants' agent
    // credentials in DATA/tenancy (decision 007).
    if (gateway) {
      try {
        services.push(
          await startService(gatewayName, {
            runtime,
            env: {
              NATS_URL: url,
              MEMBUS_DATA_DIR: dataDir,
              MEMBUS_TENANCY_DIR: localTenancyDir,
              METRICS_PORT: String(gatewayMetricsPort),
              GATEWAY_PORT: String(gatewayPort),
            },
            onLog: (service, line) => process.stdout.write(`${service.padEnd(12)} ${line}\n`),
          }),
        );
      } catch (error) {
        // Taken since the check above (another stack starting at the same time): by default
        // the stack runs on without the gateway; asked for, it fails like any other port.
        const taken = /EADDRINUSE[^\n]*?:(\d+)/.exec((error as Error).message)?.[1];
        if (config.gatewayPort !== undefined || taken === undefined) throw error;
        gateway = false;
        gatewaySkipped = `port ${taken} (${taken === String(gatewayPort) ? 'HTTP API' : 'gateway metrics'}) is taken: the HTTP gateway is not started (choose another with --gateway-port N or --metrics-port-base N)\n`;
      }
    }
  } catch (error) {
    await stopAll();
    // Taken since the check above: still one line.
    const taken = /EADDRINUSE[^\n]*?:(\d+)/.exec((error as Error).message);
    if (taken?.[1] === String(gatewayPort))
      fail(
        `port ${taken[1]} (HTTP API) is taken: choose another with --gateway-port N (or GATEWAY_PORT)`,
      );
    if (taken)
      fail(
        `port ${taken[1]} (metrics) is taken: choose another with --metrics-port-base N (or METRICS_PORT_BASE)`,
      );
    fail((error as Error).message);
  }
  if (gatewaySkipped) process.stdout.write(gatewaySkipped);
  // The flags the other commands need to reach this stack rather than the default one.
  const reach = [
    config.natsUrl === undefined && config.natsPort !== 4222
      ? ` --nats-port ${config.natsPort}`
      : '',
    dataDir !== resolve('./data') ? ` --data-dir ${dataDir}` : '',
  ].join('');
  process.stdout.write(
    `\nmembus is running (tenant "${tenant}", NATS ${url}, data in ${dataDir}).\n` +
      (tenancy
        ? `  tenancy: one NATS account per tenant; agents connect with ${localTenancyDir}/creds/tenants/<tenant>.creds\n` +
          `           (\`pnpm membus tenant add NAME${reach}\` adds one while the stack runs)\n`
        : '') +
      `  metrics: ${services.map((service) => `${service.name} http://127.0.0.1:${service.metricsPort}/metrics`).join(', ')}\n` +
      (gateway
        ? `  http:    http://127.0.0.1:${gatewayPort}/v1 (OpenAPI at /openapi.json; a key: \`pnpm membus apikey create --tenant ${tenant}${reach}\`)\n`
        : '') +
      `  try:     pnpm membus store "Deploys to Vercel need NODE_ENV=production" --user alice --wait${reach}\n` +
      `           pnpm membus query "how do we deploy" --user alice${reach}\n` +
      'Ctrl-C stops everything.\n\n',
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping…\n');
    stopAll().then(
      () => {
        process.stdout.write(`membus stopped; its data is kept in ${dataDir}.\n`);
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(
          `membus did not stop cleanly: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  for (const service of services) {
    service.process.once('exit', (code) => {
      if (stopping) return;
      process.stderr.write(`${service.name} exited with ${code}; stopping the stack\n`);
      shutdown();
    });
  }
}
