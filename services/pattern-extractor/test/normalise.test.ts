import { describe, expect, it } from 'vitest';
import {
  configSignature,
  errorSignature,
  signatureSimilarity,
  stepsSignature,
} from '../src/domain/normalise.ts';

describe('errorSignature', () => {
  it('gives one signature for one failure seen with different ids, paths and numbers', () => {
    const seen = [
      "Build failed: Cannot find module '/home/ci/builds/8812/app/node_modules/react-dom' (build 8812, request 5f0c2a1e-9b7d-4c1e-8a33-0d2e4f6a8b90)",
      "Build failed: Cannot find module '/srv/runner/4/app/node_modules/react-dom' (build 17, request 0a1b2c3d-0000-4000-8000-123456789abc)",
    ];
    expect(new Set(seen.map(errorSignature)).size).toBe(1);
  });

  it.each([
    [
      'replaces unquoted paths, hashes and numbers with placeholders',
      'ENOENT: no such file /var/lib/app/cache/3f9a2c7e1b.json after 3 retries at commit a1b2c3d4e5',
      'enoent: no such file <path> after <n> retries at commit <hex>',
    ],
    [
      'replaces urls and ids glued to numbers',
      'GET https://api.vercel.com/v9/projects/prj_8sK2 returned 502 for deployment dpl-77f2',
      'get <url> returned <n> for deployment <id>',
    ],
  ])('%s', (_title, message, signature) => {
    expect(errorSignature(message)).toBe(signature);
  });

  it('keeps different failures apart', () => {
    expect(errorSignature('Build failed: out of memory')).not.toBe(
      errorSignature('Deploy failed: token expired'),
    );
  });
});

describe('signatureSimilarity', () => {
  it('is high for signatures differing in one word', () => {
    expect(
      signatureSimilarity(
        'deploy failed: timeout waiting for health check on <url> after <n> s',
        'deploy failed: timeout waiting for readiness check on <url> after <n> s',
      ),
    ).toBeGreaterThanOrEqual(0.8);
  });
});

describe('variant signatures', () => {
  it('normalises step case, spacing and trailing punctuation', () => {
    expect(stepsSignature(['  Install  dependencies.', 'BUILD', 'deploy_to_vercel'])).toBe(
      'install dependencies → build → deploy to vercel',
    );
  });

  it('sorts config keys and lower-cases string values', () => {
    expect(configSignature({ platform: 'Vercel', environment: 'production', replicas: 2 })).toBe(
      'environment=production, platform=vercel, replicas=2',
    );
  });
});
