import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { MembusError } from '@membus/contracts';

// SSRF care: membus POSTs to URLs an operator registered, from inside the deployment. Addresses
// that reach the deployment itself or its network (loopback, private ranges, link-local with the
// cloud metadata service, carrier NAT, multicast, reserved) are refused unless the operator
// allows them (WEBHOOK_ALLOW_PRIVATE). The address checked is the one connected to, so a DNS
// answer that changes between the check and the connection (rebinding) cannot slip past.

const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(network, prefix, 'ipv6');

/** True when the address reaches the deployment or a private network (see above). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
  return blocked.check(address, 'ipv6');
}

/** Where a delivery connects: the host's address that was checked, and its family. */
export interface ResolvedTarget {
  address: string;
  family: 4 | 6;
}

/** Resolves a URL's host; a private address fails with a non-retryable INVALID_MESSAGE. */
export type ResolveTarget = (url: URL) => Promise<ResolvedTarget>;

export function addressGuard(options: {
  allowPrivate: boolean;
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}): ResolveTarget {
  const resolve =
    options.resolve ?? ((host: string) => lookup(host, { all: true, verbatim: true }));
  return async (url) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: { address: string; family: number }[];
    try {
      addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await resolve(host);
    } catch (error) {
      throw new MembusError('UNAVAILABLE', `cannot resolve ${host}`, {
        retryable: true,
        cause: error,
        details: { host },
      });
    }
    const refused = addresses.filter(({ address }) => isPrivateAddress(address));
    if (!options.allowPrivate && refused.length > 0)
      throw new MembusError(
        'INVALID_MESSAGE',
        `${host} resolves to a private or reserved address (${refused[0]?.address}): refused (WEBHOOK_ALLOW_PRIVATE=true allows it)`,
        { retryable: false, details: { host, address: refused[0]?.address ?? '' } },
      );
    const first = addresses[0];
    if (!first)
      throw new MembusError('UNAVAILABLE', `${host} has no address`, {
        retryable: true,
        details: { host },
      });
    return { address: first.address, family: first.family === 6 ? 6 : 4 };
  };
}
