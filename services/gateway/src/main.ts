import { ConfigError } from '@membus/bus';
import { createLogger, processTelemetry } from '@membus/telemetry';
import { FileApiKeyStore } from '@membus/tenancy';
import { buildGateway } from './app.ts';
import { type GatewayConfig, loadGatewayConfig } from './config.ts';
import { createGatewayMetrics } from './metrics.ts';
import { TenantClients, tenantCredentialsFrom } from './tenant-clients.ts';

// Not `defineService` of @membus/service-runtime: it connects one NATS user of the service's
// own and ensures streams, and the gateway has neither (decision 007). The same pieces, wired
// here: config, logger, tracing, metrics and the telemetry server, ready message, drain.
const name = 'gateway';
let config: GatewayConfig;
try {
  config = loadGatewayConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  createLogger(name).error(error.message);
  process.exit(1);
}
const telemetry = processTelemetry(name, config);
const { log, registry } = telemetry;
const metrics = createGatewayMetrics(registry);
const tls =
  config.natsTlsCa || config.natsTlsCert
    ? {
        ...(config.natsTlsCa ? { caFile: config.natsTlsCa } : {}),
        ...(config.natsTlsCert ? { certFile: config.natsTlsCert } : {}),
        ...(config.natsTlsKey ? { keyFile: config.natsTlsKey } : {}),
      }
    : undefined;
const clients = new TenantClients({
  servers: config.natsUrl,
  ...(tls ? { tls } : {}),
  credentials: tenantCredentialsFrom(config.credsDir, process.env),
  idleMs: config.idleMs,
  timeoutMs: config.requestTimeoutMs,
  onCount: (count) => metrics.connections(count),
});
const app = await buildGateway({
  keys: new FileApiKeyStore(config.apiKeysFile),
  clients,
  metrics,
  log,
  bodyLimitBytes: config.bodyLimitBytes,
  timeouts: {
    requestMs: config.requestTimeoutMs,
    queryableMs: config.queryableTimeoutMs,
    lifecycleMs: config.lifecycleTimeoutMs,
  },
});
try {
  await app.listen({ port: config.port, host: config.host });
} catch (error) {
  log.error(`cannot listen on ${config.host}:${config.port}; stopping`, { error });
  process.exit(1);
}
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
await telemetry.run({
  checks: () => ({ http: app.server.listening }),
  details: {
    url: `http://${config.host}:${port}`,
    nats: config.natsUrl,
    apiKeys: config.apiKeysFile,
    tenantCredentials: config.credsDir,
  },
  drain: async () => {
    // In-flight requests finish (new ones get 503), then the tenants' connections close.
    await app.close();
    await clients.close();
  },
});
