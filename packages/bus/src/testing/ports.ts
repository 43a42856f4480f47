import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** The lowest port handed to a test: above the well-known and common development ports. */
const LOWEST = 10_000;

/**
 * The ports the kernel hands out on its own — to every outgoing connection and to `listen(0)`
 * (Linux's `ip_local_port_range`; where it cannot be read, the wider of Linux's and macOS's).
 */
async function ephemeralRange(): Promise<readonly [number, number]> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  const [low, high] = text.trim().split(/\s+/).map(Number);
  return low !== undefined && high !== undefined && low > 0 && high >= low
    ? [low, high]
    : [32_768, 65_535];
}

function listenable(port: number, host: string): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolveFree(true)));
  });
}

/**
 * A base of `count` consecutive TCP ports nothing listens on right now, on every address, and
 * outside the kernel's ephemeral range: a port given to a test server may be taken by no one
 * but another test before the server listens. (A port from `listen(0)` may meanwhile become
 * the local end of any outgoing connection: a CI run saw a service's metrics port taken so.)
 */
export async function unusedPortBase(count = 1): Promise<number> {
  const [low, high] = await ephemeralRange();
  const below = Math.max(0, low - count - LOWEST + 1); // bases LOWEST .. low - count
  const above = Math.max(0, 65_536 - count - high); // bases high + 1 .. 65536 - count
  if (below + above === 0) throw new Error(`no ${count} ports outside ${low}-${high}`);
  for (;;) {
    const pick = Math.floor(Math.random() * (below + above));
    const base = pick < below ? LOWEST + pick : high + 1 + (pick - below);
    const ports = Array.from({ length: count }, (_, offset) => base + offset);
    const free = await Promise.all(ports.map((port) => listenable(port, '0.0.0.0')));
    if (free.every(Boolean)) return base;
  }
}

/**
 * A TCP port nothing listens on right now, outside the ephemeral range (`unusedPortBase`), e.g.
 * to point a client at an unreachable server or to hand a test server its port.
 */
export function unusedPort(): Promise<number> {
  return unusedPortBase(1);
}

/** A URL of `scheme` on 127.0.0.1 at a port nothing listens on, e.g. `mongodb://127.0.0.1:4711/`. */
export async function unreachableUrl(scheme: string, path = '/'): Promise<string> {
  return `${scheme}://127.0.0.1:${await unusedPort()}${path}`;
}
