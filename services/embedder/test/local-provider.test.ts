import { describe, expect, it } from 'vitest';
import { createLocalEmbeddingProvider } from '../src/adapters/local-provider.ts';
import { createEmbeddingProviderConformanceSuite } from '../src/testing/index.ts';

createEmbeddingProviderConformanceSuite({
  name: 'local',
  create: () => createLocalEmbeddingProvider(),
});

function cosine(left: Float32Array, right: Float32Array): number {
  let dot = 0;
  for (let index = 0; index < left.length; index++) {
    dot += (left[index] as number) * (right[index] as number);
  }
  return dot;
}

/** Anchor, a paraphrase or closely related memory, an unrelated memory from the same world. */
const TRIPLES: readonly (readonly [string, string, string])[] = [
  [
    'Build failed: Missing dependency react-dom',
    "The build broke because react-dom wasn't installed in the ui package",
    'User prefers dark mode in the dashboard',
  ],
  [
    'Deployed the web app to Vercel production at 14:02',
    'Production deployment of the web app on Vercel finished',
    'The Postgres connection pool is capped at 20 connections',
  ],
  [
    'User prefers pnpm over npm for installing packages',
    'Always use pnpm instead of npm when installing packages for this user',
    'Incident: the payment webhook timed out after 30 seconds',
  ],
  [
    'ERR_CONNECTION_REFUSED when the frontend calls localhost:8080',
    'Frontend gets connection refused from the API on localhost port 8080',
    'The marketing site uses Tailwind CSS v3',
  ],
  [
    'Rollback of release v2.4.1 after error rate spiked to 12%',
    'We rolled back v2.4.1 because the error rate spiked',
    'The user wants commit messages written in the imperative mood',
  ],
  [
    'Docker image build takes 9 minutes because layers are not cached',
    'Docker builds are slow: layer caching is disabled so each build takes about 9 minutes',
    'The CEO asked for a weekly summary of open incidents every Monday',
  ],
  [
    'User is based in Berlin and works in the CET timezone',
    'Schedule meetings in CET; the user lives in Berlin',
    'TypeError: Cannot read properties of undefined (reading map) in OrderList.tsx',
  ],
  [
    'TypeError: Cannot read properties of undefined (reading map) in OrderList.tsx',
    'OrderList.tsx crashes reading map of undefined when orders have not loaded',
    'Deployed the docs site to Netlify',
  ],
  [
    'The staging database migration failed on the users table due to a lock timeout',
    'Migration on staging users table hit a lock timeout and failed',
    'User prefers responses in bullet points',
  ],
  [
    'Kubernetes pod api-7f9c crashed with OOMKilled; memory limit is 512Mi',
    'The api pod was OOMKilled, its memory limit of 512Mi is too low',
    'The team uses Linear for issue tracking',
  ],
  [
    'User prefers concise answers without long explanations',
    'Keep answers concise; the user dislikes long explanations',
    'Redis cache eviction policy is allkeys-lru',
  ],
  [
    'CI pipeline fails on Node 18 because of the fetch polyfill',
    'The CI pipeline breaks with Node 18 due to a fetch polyfill conflict',
    'The user likes to review pull requests in the morning',
  ],
  [
    'SSL certificate for api.example.com expires on June 3',
    'The TLS certificate of api.example.com will expire June 3, renew it before',
    'Unit tests are written with vitest',
  ],
  [
    'Stripe webhook signature verification failed in production',
    'Production Stripe webhooks fail signature verification',
    'The user is learning Rust on weekends',
  ],
  [
    'Use feature flags for every risky release',
    'Risky releases should be gated behind a feature flag',
    'The S3 bucket for backups is in eu-west-1',
  ],
  [
    'Incident 2024-03-14: checkout latency p99 went to 4s after the CDN change',
    'Checkout p99 latency rose to 4 seconds following the CDN config change',
    'User prefers Vim keybindings in the editor',
  ],
  [
    'npm ERR! code ERESOLVE unable to resolve dependency tree for eslint',
    'ERESOLVE error: npm could not resolve the eslint dependency tree',
    'The on-call rotation changes every Tuesday',
  ],
  [
    'The user wants all code examples in TypeScript, not JavaScript',
    'Write code samples in TypeScript for this user instead of JavaScript',
    'The cron job for invoices runs at midnight UTC',
  ],
  [
    'GraphQL query getOrders returns null for guest users',
    'getOrders GraphQL query gives null when the user is a guest',
    'Our logo color is #1E40AF',
  ],
  [
    'Cloudflare rate limited the crawler with HTTP 429 Too Many Requests',
    'The crawler got 429 too many requests responses from Cloudflare rate limiting',
    'The user prefers tabs over spaces',
  ],
  [
    'Terraform apply failed: state lock held by another process',
    'terraform could not acquire the state lock because another run held it',
    'The mobile app supports iOS 16 and later',
  ],
  [
    'Lambda cold starts add 800ms to the first request',
    'First request after idle is 800ms slower due to Lambda cold start',
    'The designer prefers Figma comments over Slack messages',
  ],
  [
    'The user asked to never push directly to the main branch',
    'Do not push to main directly; the user wants pull requests',
    'Sentry reported 300 errors from the checkout service last night',
  ],
  [
    'Sentry reported 300 errors from the checkout service last night',
    'Last night the checkout service had 300 errors in Sentry',
    'The user asked to never push directly to the main branch',
  ],
  [
    'Postgres query on orders table is slow without an index on customer_id',
    'Add an index on orders.customer_id to speed up the slow Postgres query',
    'The user enjoys detailed architecture diagrams',
  ],
  [
    'Memory leak in the websocket server grows 50MB per hour',
    'The websocket server leaks memory at about 50MB an hour',
    'Deploy previews are enabled for every pull request',
  ],
  [
    'The agent should summarise long logs before answering',
    'Summarise long logs first, then answer',
    'Python 3.12 is the runtime for the data pipeline',
  ],
  [
    'Python 3.12 is the runtime for the data pipeline',
    'The data pipeline runs on Python 3.12',
    'Summarise long logs first, then answer',
  ],
  [
    'CORS error: No Access-Control-Allow-Origin header on /api/login',
    'The /api/login endpoint is missing the Access-Control-Allow-Origin CORS header',
    'The quarterly roadmap review is next Thursday',
  ],
  [
    'Git merge conflict in package.json after rebasing feature/auth',
    'Rebasing feature/auth produced a merge conflict in package.json',
    'The user drinks coffee before standup',
  ],
  [
    'Elasticsearch cluster turned red because a node ran out of disk',
    'A node ran out of disk space and the Elasticsearch cluster went red',
    'The user prefers British spelling',
  ],
  [
    'JWT tokens expire after 15 minutes; refresh tokens last 7 days',
    'Access tokens (JWT) expire in 15 minutes, refresh tokens after 7 days',
    'Grafana dashboard for queue depth lives in the ops folder',
  ],
  [
    'The user is allergic to meetings before 10am',
    'Avoid booking meetings before 10am for this user',
    'Vercel build cache was purged after the Next.js upgrade',
  ],
  [
    'Vercel build cache was purged after the Next.js upgrade',
    'After upgrading Next.js we purged the Vercel build cache',
    'The user is allergic to meetings before 10am',
  ],
  [
    'Health check on /healthz returns 503 while the pod warms up',
    'The /healthz endpoint answers 503 during pod warm-up',
    'Invoices are emailed as PDF attachments',
  ],
  [
    'The user switched from VS Code to Cursor last month',
    'Since last month the user edits code in Cursor instead of VS Code',
    'ECONNRESET errors from the payments provider during peak hours',
  ],
  // Harder: the unrelated memory shares the topic's vocabulary.
  [
    'Build failed: Missing dependency react-dom',
    'Install react-dom, the ui package build needs it',
    'Build succeeded after upgrading the dependency cache',
  ],
  [
    'User prefers pnpm over npm',
    'This user wants pnpm, not npm, for package installs',
    'npm audit found 3 vulnerabilities in the user service',
  ],
  [
    'Postgres connection pool exhausted under load',
    'Under load we ran out of Postgres pool connections',
    'Postgres backup finished in 12 minutes',
  ],
  [
    'Rollback of the checkout service after a bad deploy',
    'We rolled the checkout service back because the deploy was bad',
    'Checkout service deploy went fine and conversion improved',
  ],
  [
    'The user wants answers in German',
    'Reply to this user in German',
    'The user works with a German bank API',
  ],
  [
    'Redis failover caused connection refused errors for 2 minutes',
    'For two minutes after the Redis failover, clients saw connection refused',
    'Redis memory usage is at 60% of maxmemory',
  ],
];

describe('local provider quality', () => {
  it('ranks the related memory above the unrelated one for at least 90% of triples', async () => {
    const provider = createLocalEmbeddingProvider();
    let wins = 0;
    const misses: string[] = [];
    for (const [anchor, related, unrelated] of TRIPLES) {
      const [a, r, u] = await provider.embed([anchor, related, unrelated], { purpose: 'document' });
      if (!a || !r || !u) throw new Error('missing vector');
      if (cosine(a, r) > cosine(a, u)) wins++;
      else misses.push(anchor);
    }
    const rate = wins / TRIPLES.length;
    console.info(
      `local provider labelled set: ${wins}/${TRIPLES.length} = ${(rate * 100).toFixed(1)}%` +
        (misses.length ? `; missed: ${misses.join(' | ')}` : ''),
    );
    expect(rate).toBeGreaterThanOrEqual(0.9);
  });

  it('has at least 30 labelled triples', () => {
    expect(TRIPLES.length).toBeGreaterThanOrEqual(30);
  });

  const MEMORIES = [
    'Deployed the web app to Vercel production',
    'Build failed: Missing dependency react-dom',
    'User prefers pnpm over npm',
    'The API gateway returned 502 Bad Gateway during the incident',
    'Frontend fetch failed with ERR_CONNECTION_REFUSED on localhost:3000',
    'Connection refused errors from Redis after the failover',
    'npm ERR! code ERESOLVE while installing eslint plugins',
    'Postgres error 40P01 deadlock detected in the billing worker',
    'The connection pool to Postgres was exhausted during the load test',
    'Kubernetes pod crashed with OOMKilled',
    'User prefers concise answers',
    'TLS handshake failed: certificate has expired',
    'ECONNRESET from the payments provider during peak hours',
    'The frontend error boundary shows a blank page on refresh',
    'Lambda cold starts add 800ms to the first request',
    'Git merge conflict in package.json after rebase',
    'Error: connect ETIMEDOUT 10.0.3.7:5432 when refusing idle connections',
    'Staging deploy blocked by failing smoke tests',
    'Node process exited with code 137',
    'Rate limited by GitHub API: 403 secondary rate limit',
  ] as const;

  /** The memory the local provider ranks first for a query. */
  const bestMatch = async (text: string) => {
    const provider = createLocalEmbeddingProvider();
    const vectors = await provider.embed(MEMORIES, { purpose: 'document' });
    const [query] = await provider.embed([text], { purpose: 'query' });
    if (!query) throw new Error('missing query vector');
    const ranked = vectors
      .map((vector, index) => ({ index, score: cosine(query, vector) }))
      .sort((left, right) => right.score - left.score);
    return MEMORIES[ranked[0]?.index ?? -1];
  };

  it('ranks the memory with an exact error code first', async () => {
    expect(await bestMatch('why did we get ERR_CONNECTION_REFUSED?')).toBe(
      'Frontend fetch failed with ERR_CONNECTION_REFUSED on localhost:3000',
    );
  });

  it('ranks the memory with an exact Postgres error code first', async () => {
    expect(await bestMatch('postgres 40P01 in billing')).toBe(
      'Postgres error 40P01 deadlock detected in the billing worker',
    );
  });

  it('names the model after its dimension', () => {
    expect(createLocalEmbeddingProvider({ dimension: 256 }).capabilities.model).toBe(
      'local-hash-v1-256',
    );
  });
});
