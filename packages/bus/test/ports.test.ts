/**
 * Ports handed to test servers lie outside the kernel's ephemeral range, so no outgoing
 * connection can take one before the server listens on it (a CI run lost a metrics port so).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { unusedPort, unusedPortBase } from '../src/testing/index.ts';

const rangeFile = '/proc/sys/net/ipv4/ip_local_port_range';
const linux = (() => {
  try {
    return readFileSync(rangeFile, 'utf8');
  } catch {
    return undefined;
  }
})();

describe('unusedPortBase', () => {
  it.skipIf(linux === undefined)(
    `gives consecutive ports outside ${rangeFile}, each free to listen on`,
    async () => {
      const [low, high] = (linux ?? '').trim().split(/\s+/).map(Number) as [number, number];
      for (let draw = 0; draw < 40; draw += 1) {
        const base = await unusedPortBase(5);
        for (let port = base; port < base + 5; port += 1) {
          expect(port).toBeGreaterThanOrEqual(10_000);
          expect(port).toBeLessThanOrEqual(65_535);
          expect(port < low || port > high, `${port} in ${low}-${high}`).toBe(true);
        }
        const server = createServer();
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: base + 4, host: '0.0.0.0', exclusive: true }, resolve);
        });
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );

  it('gives a single port the same way', async () => {
    const port = await unusedPort();
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThanOrEqual(65_535);
  });
});
