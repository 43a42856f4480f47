import { counter, defineMetrics, gauge, histogram } from '@membus/telemetry';
import type { Registry } from 'prom-client';

/** Every metric the gateway declares (its requests are HTTP, not NATS messages). */
// biome-ignore format: a metric a line
const gatewayMetrics = defineMetrics({
  requests: counter('membus_http_requests_total', 'HTTP requests answered, by route template, method, status and error code (empty on success)', ['route', 'method', 'status', 'code']),
  requestSeconds: histogram('membus_http_request_seconds', 'Time to answer an HTTP request, by route template and method', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], ['route', 'method']),
  tenantConnections: gauge('membus_gateway_tenant_connections', 'Tenants with an open NATS connection (each as its own agent user)'),
});

/** Every metric the gateway exports besides the process defaults (names are a contract). */
export const GatewayMetricNames = gatewayMetrics.names;

export interface GatewayMetrics {
  /** One finished HTTP request: its route template (never the raw path), status and code. */
  request(event: {
    route: string;
    method: string;
    status: number;
    code: string;
    seconds: number;
  }): void;
  /** How many tenants have an open NATS connection. */
  connections(count: number): void;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  const metrics = gatewayMetrics.register(registry);
  return {
    request({ route, method, status, code, seconds }) {
      metrics.requests.inc({ route, method, status: String(status), code });
      metrics.requestSeconds.observe({ route, method }, seconds);
    },
    connections(count) {
      metrics.tenantConnections.set(count);
    },
  };
}
