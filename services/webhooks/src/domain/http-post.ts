import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MembusError } from '@membus/contracts';
import type { ResolvedTarget } from './address-guard.ts';

type LookupCallback = (
  error: Error | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

/** One POST's outcome: the status (any) and how long it took. */
export interface PostResult {
  status: number;
  /** `Retry-After` in ms when the receiver sent one. */
  retryAfterMs?: number;
}

/** POSTs JSON to `url`, connecting to `target` (the checked address); redirects are not followed. */
export type HttpPost = (
  url: URL,
  target: ResolvedTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<PostResult>;

/** The node:http(s) poster: the socket goes to the checked address, TLS still checks the host name. */
export const nodeHttpPost: HttpPost = (url, target, headers, body, timeoutMs) =>
  new Promise<PostResult>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'membus-webhooks/1',
        },
        // The address already checked by the guard: no second DNS answer is used.
        lookup: ((_host: string, options: { all?: boolean }, callback: LookupCallback) =>
          options.all
            ? callback(null, [{ address: target.address, family: target.family }])
            : callback(null, target.address, target.family)) as never,
        timeout: timeoutMs,
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          const retryAfter = Number(response.headers['retry-after']);
          resolve({
            status: response.statusCode ?? 0,
            ...(Number.isFinite(retryAfter) && retryAfter >= 0
              ? { retryAfterMs: retryAfter * 1_000 }
              : {}),
          });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () =>
      request.destroy(new MembusError('TIMEOUT', `no answer from ${url.host} in ${timeoutMs} ms`)),
    );
    request.on('error', reject);
    request.end(body);
  });
