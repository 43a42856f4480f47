import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 nothing listens on right now (the system picks it), e.g. to point a
 * client at an unreachable server or to hand a test server its port.
 */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A URL of `scheme` on 127.0.0.1 at a port nothing listens on, e.g. `mongodb://127.0.0.1:4711/`. */
export async function unreachableUrl(scheme: string, path = '/'): Promise<string> {
  return `${scheme}://127.0.0.1:${await unusedPort()}${path}`;
}
