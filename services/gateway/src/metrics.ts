import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Every metric the gateway exports besides the process defaults (names are a contract). */
export const GatewayMetricNames = {
  requests: 'membus_http_requests_total',
  requestSeconds: 'membus_http_request_seconds',
  tenantConnections: 'membus_gateway_tenant_connections',
} as const;

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
  const requests = new Counter({
    name: GatewayMetricNames.requests,
    help: 'HTTP requests answered, by route template, method, status and error code (empty on success)',
    labelNames: ['route', 'method', 'status', 'code'],
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: GatewayMetricNames.requestSeconds,
    help: 'Time to answer an HTTP request, by route template and method',
    labelNames: ['route', 'method'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const tenantConnections = new Gauge({
    name: GatewayMetricNames.tenantConnections,
    help: 'Tenants with an open NATS connection (each as its own agent user)',
    registers: [registry],
  });
  return {
    request({ route, method, status, code, seconds }) {
      requests.inc({ route, method, status: String(status), code });
      requestSeconds.observe({ route, method }, seconds);
    },
    connections(count) {
      tenantConnections.set(count);
    },
  };
}
