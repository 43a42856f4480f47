import { describe, expect, it } from 'vitest';
import { createRedactor, isSecretKeyName } from '../src/domain/redaction.ts';
import { cleanTexts, GHO, GHP, GHS, NPM, secretCases } from './support/secret-corpus.ts';

const redactor = createRedactor();

describe('createRedactor: secrets', () => {
  it('has a corpus of at least 50 secrets', () => {
    expect(secretCases.flatMap((entry) => entry.secrets).length).toBeGreaterThanOrEqual(50);
  });

  it.each(secretCases)('leaves no secret value in: $text', ({ text, secrets }) => {
    const { text: redacted } = redactor.redact(text);
    expect(secrets.filter((secret) => redacted.includes(secret))).toEqual([]);
  });

  it.each(secretCases)('reports $kind for: $text', ({ text, kind }) => {
    const { redactions } = redactor.redact(text);
    expect(redactions.map((entry) => entry.kind)).toContain(kind);
  });

  it.each(secretCases)('keeps the surrounding words of: $text', ({ text, keep }) => {
    const { text: redacted } = redactor.redact(text);
    expect(keep.filter((words) => !redacted.includes(words))).toEqual([]);
  });
});

describe('createRedactor: text without secrets', () => {
  it('has at least 15 clean texts', () => {
    expect(cleanTexts.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cleanTexts)('returns unchanged: %s', (text) => {
    expect(redactor.redact(text)).toEqual({ text, redactions: [] });
  });
});

describe('createRedactor: policy', () => {
  it('replaces a secret with [REDACTED:<kind>] by default', () => {
    expect(redactor.redact(`key ${GHP} here`).text).toBe('key [REDACTED:github-token] here');
  });

  it('counts each kind', () => {
    expect(redactor.redact(`${GHP} ${GHO} ${NPM}`).redactions).toEqual([
      { kind: 'github-token', count: 2 },
      { kind: 'npm-token', count: 1 },
    ]);
  });

  it('passes text through when disabled', () => {
    const text = `token ${GHP}`;
    expect(createRedactor({ enabled: false }).redact(text).text).toBe(text);
  });

  it('looks only for the kinds asked for', () => {
    const text = `${GHP} and ${NPM}`;
    expect(createRedactor({ kinds: ['npm-token'] }).redact(text).text).toBe(
      `${GHP} and [REDACTED:npm-token]`,
    );
  });

  it('uses a custom replacement', () => {
    const custom = createRedactor({ replacement: (kind) => `<${kind}>` });
    expect(custom.redact(`npm ${NPM}`).text).toBe('npm <npm-token>');
  });

  it('masks an extra pattern', () => {
    const custom = createRedactor({
      extraPatterns: [{ kind: 'acme-token', pattern: /\bacme_[a-z0-9]{12}\b/ }],
    });
    expect(custom.redact('internal acme_abc123def456 key').text).toBe(
      'internal [REDACTED:acme-token] key',
    );
  });

  it('masks only the named group `secret` of an extra pattern', () => {
    const custom = createRedactor({
      extraPatterns: [{ kind: 'pin', pattern: /\bPIN (?<secret>\d{4,8})\b/ }],
    });
    expect(custom.redact('door PIN 482913 today').text).toBe('door PIN [REDACTED:pin] today');
  });

  it('finds an assignment inside a value that is not a secret', () => {
    expect(redactor.redact('note: password=Q9x!v7Lm2').text).toBe(
      'note: password=[REDACTED:credential-assignment]',
    );
  });
});

describe('isSecretKeyName', () => {
  it.each([
    'password',
    'DB_PASSWORD',
    'apiKey',
    'x-api-key',
    'client_secret',
    'GITHUB_TOKEN',
    '--token',
    'aws_secret_access_key',
    'auth',
    'private_key',
  ])('accepts %s', (key) => {
    expect(isSecretKeyName(key)).toBe(true);
  });

  it.each(['author', 'max_tokens', 'token_type', 'tokenizer', 'password_file', 'client_id'])(
    'rejects %s',
    (key) => {
      expect(isSecretKeyName(key)).toBe(false);
    },
  );
});

describe('createRedactor: hostile input', () => {
  // Each would take minutes with a backtracking-prone pattern; here they only must be right.
  const megabyte = 1_000_000;
  const hostile: readonly (readonly [string, string])[] = [
    ['one long word', 'a'.repeat(megabyte)],
    ['dashes and dots', 'a-b.'.repeat(megabyte / 4)],
    ['keys without values', 'password='.repeat(megabyte / 9)],
    ['PEM headers without end', '-----BEGIN PRIVATE KEY-----'.repeat(megabyte / 27)],
    ['JWT prefixes', 'eyJ.eyJ.'.repeat(megabyte / 8)],
    ['URL schemes', 'a://b:c'.repeat(megabyte / 7)],
    ['bearer words', 'Bearer Bearer '.repeat(megabyte / 14)],
  ];

  it.each(hostile)('handles 1 MB of %s', (_name, text) => {
    const result = redactor.redact(text);
    expect(result.text.length).toBeGreaterThan(0);
  });

  it('redacts a secret after 1 MB of near-misses', () => {
    const text = `${'sk-ant- ghp_ AKIA password: '.repeat(35_000)}token=${GHS}`;
    expect(redactor.redact(text).text.endsWith('token=[REDACTED:github-token]')).toBe(true);
  });
});
