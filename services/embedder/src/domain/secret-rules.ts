/**
 * What a secret looks like: the built-in kinds and their rules (patterns, the literals that
 * must occur for a rule to run, a last check on the candidate), which key names name a
 * secret, and which values are placeholders rather than secrets. `redaction.ts` applies them.
 *
 * Every pattern is linear: each quantifier that can run long is bounded or anchored by
 * a literal prefix, so a hostile 1 MB input costs a bounded amount of work per position.
 */

export const SecretKinds = [
  'private-key',
  'anthropic-api-key',
  'openai-api-key',
  'github-token',
  'slack-token',
  'slack-webhook',
  'stripe-key',
  'google-api-key',
  'npm-token',
  'aws-access-key-id',
  'aws-secret-access-key',
  'vercel-token',
  'jwt',
  'authorization-header',
  'bearer-token',
  'url-password',
  'credential-assignment',
] as const;

export type SecretKind = (typeof SecretKinds)[number];

/** One way a secret shows in text. */
export interface Rule {
  kind: string;
  pattern: RegExp;
  /** Capture groups that may hold the secret, first defined wins; none: the whole match. */
  groups?: readonly number[];
  /** Literals of which one must occur (case-insensitively) for the rule to run at all. */
  hints?: readonly string[];
  /** A last, cheap check on the candidate secret and its whole match. */
  accept?: (secret: string, match: RegExpExecArray) => boolean;
}

// Separator of an assignment: `=`, `:`, `:=`, `=>`, with a little space around.
const SEPARATOR = String.raw`[ \t]{0,3}(?::=|=>|[:=])[ \t]{0,3}`;
const QUOTED_VALUES = String.raw`"((?:[^"\\\r\n]|\\.){1,500})"|'((?:[^'\\\r\n]|\\.){1,500})'`;
// Unquoted value: stops at whitespace, quotes, brackets and list/query separators;
// `=` only as base64 padding at the end.
const BARE_VALUE = String.raw`([^\s"'\x60,;&|<>()\[\]{}=]{1,500}(?:={1,3}(?![^\s"'\x60,;&|<>()\[\]{}]))?)`;
// Cheap pre-filter: the key must at least contain one of these before a value is read.
const KEY_HINT = String.raw`(?=[\w.-]{0,80}?(?:pass|pw|secret|token|key|auth|credential))`;
const PEM_LABEL = '(?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?';

const PLACEHOLDER_VALUES = new Set([
  'true',
  'false',
  'null',
  'nil',
  'none',
  'undefined',
  'yes',
  'no',
  'on',
  'off',
  'required',
  'optional',
  'string',
  'redacted',
  'hidden',
  'masked',
  'empty',
  'unset',
  'example',
]);

/** Not a literal secret: a placeholder, an env/template reference, a mask. */
export function isPlaceholder(value: string): boolean {
  return (
    PLACEHOLDER_VALUES.has(value.toLowerCase()) ||
    /^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(value) ||
    /^\{\{.*\}\}$/.test(value) ||
    /^<[^<>]*>$/.test(value) ||
    /^(?:\*+|x+|X+|\.+|•+)$/.test(value) ||
    /^\[REDACTED/i.test(value) ||
    /^(?:process\.env|os\.environ|env)[.[]/.test(value)
  );
}

/** A value that could not be an ordinary word: digits, symbols or mixed case. */
function looksGenerated(value: string): boolean {
  if (value.length < 6) return false;
  if (value.includes('://') || /^[~.]?\//.test(value)) return false;
  if (/\d/.test(value) || /[^\p{L}\p{N}]/u.test(value)) return true;
  return /[a-z]/.test(value) && /[A-Z]/.test(value) && !/^[A-Z][a-z]+$/.test(value);
}

const KEY_ENDINGS = [
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'apikey',
  'accesskey',
  'privatekey',
  'clientsecret',
  'credential',
  'credentials',
  'auth',
];
const KEY_PAIRS = new Set([
  'apikey',
  'accesskey',
  'privatekey',
  'secretkey',
  'clientsecret',
  'authkey',
  'authtoken',
  'signingkey',
  'encryptionkey',
  'masterkey',
]);

/** Whether a key name (`DB_PASSWORD`, `apiKey`, `x-api-key`, `--token`) names a secret. */
export function isSecretKeyName(key: string): boolean {
  const parts = key
    .replace(/^[-"']+|["']+$/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[-_.\s]+/)
    .filter((part) => part.length > 0);
  const last = parts.at(-1);
  if (last === undefined) return false;
  if (last === 'authorization' || last === 'pass' || last === 'pw') return true;
  if (KEY_ENDINGS.some((ending) => last.endsWith(ending))) return true;
  const previous = parts.at(-2);
  return previous !== undefined && KEY_PAIRS.has(previous + last);
}

function acceptAssignment(secret: string, match: RegExpExecArray): boolean {
  const key = match[2] ?? '';
  if (!isSecretKeyName(key)) return false;
  if (isPlaceholder(secret)) return false;
  const quotedKey = (match[1] ?? '') !== '';
  const quotedValue = match[4] !== undefined || match[5] !== undefined;
  const codeLike =
    quotedKey || quotedValue || !match[3]?.includes(':') || !/^[A-Za-z][a-z]*$/.test(key);
  // `password: hunter2` or `DB_PASSWORD=x`: config. `Token: expired` in prose: not a secret.
  return codeLike ? secret.length >= 3 : looksGenerated(secret);
}

/** The built-in rules, in order: an earlier rule wins where two overlap. */
export function rules(): Rule[] {
  return [
    {
      kind: 'private-key',
      pattern: new RegExp(
        String.raw`-----BEGIN ${PEM_LABEL}-----(?:[A-Za-z0-9+/=\s:,.()]|-(?!----)){0,20000}?-----END ${PEM_LABEL}-----`,
        'g',
      ),
      hints: ['PRIVATE KEY'],
    },
    {
      // A key pasted without its END line: the header and the base64 that follows.
      kind: 'private-key',
      pattern: new RegExp(
        String.raw`-----BEGIN ${PEM_LABEL}-----(?:\s{1,4}[A-Za-z0-9+/=]{16,100}(?![A-Za-z0-9+/=])){0,400}`,
        'g',
      ),
      hints: ['PRIVATE KEY'],
    },
    {
      kind: 'anthropic-api-key',
      pattern: /\bsk-ant-[A-Za-z0-9_-]{20,1000}/g,
      hints: ['sk-ant-'],
    },
    {
      kind: 'openai-api-key',
      pattern: /\bsk-(?:proj-|svcacct-|admin-|None-)?([A-Za-z0-9_-]{20,1000})/g,
      hints: ['sk-'],
      // Random keys mix digits and capitals; `sk-learn-compatible-estimator` does not.
      accept: (_secret, match) => /\d/.test(match[1] ?? '') && /[A-Z]/.test(match[1] ?? ''),
    },
    {
      kind: 'github-token',
      pattern:
        /\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])/g,
      hints: ['gh', 'github_pat_'],
    },
    {
      kind: 'slack-token',
      pattern: /\b(?:xox[abposr]-[A-Za-z0-9-]{10,250}|xapp-\d-[A-Za-z0-9-]{10,250})/g,
      hints: ['xox', 'xapp-'],
    },
    {
      kind: 'slack-webhook',
      pattern: /https:\/\/hooks\.slack\.com\/services\/([A-Za-z0-9_/]{20,200})/g,
      groups: [1],
      hints: ['hooks.slack.com'],
    },
    {
      kind: 'stripe-key',
      pattern: /\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,250}|whsec_[A-Za-z0-9]{20,250})\b/g,
      hints: ['_live_', '_test_', 'whsec_'],
    },
    {
      kind: 'google-api-key',
      pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
      hints: ['AIza'],
    },
    {
      kind: 'npm-token',
      pattern: /\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g,
      hints: ['npm_'],
    },
    {
      kind: 'aws-access-key-id',
      pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g,
      hints: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    },
    {
      kind: 'aws-secret-access-key',
      pattern: new RegExp(
        String.raw`\b(?:(?:aws[_-]?)?secret[_-]?access[_-]?key|aws[_-]?secret(?:[_-]?key)?)["']?${SEPARATOR}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])`,
        'gi',
      ),
      groups: [1],
      hints: ['secret'],
    },
    {
      kind: 'vercel-token',
      pattern: new RegExp(
        String.raw`\b[A-Za-z0-9_-]{0,40}?vercel[A-Za-z0-9_-]{0,40}?token["']?${SEPARATOR}["']?([A-Za-z0-9_-]{20,100})`,
        'gi',
      ),
      groups: [1],
      hints: ['vercel'],
    },
    {
      kind: 'vercel-token',
      pattern: /\bvercel\b[^\n]{0,300}?\s--token(?:=|[ \t]{1,3})["']?([A-Za-z0-9_-]{20,100})/gi,
      groups: [1],
      hints: ['vercel'],
    },
    {
      kind: 'jwt',
      pattern: /\beyJ[A-Za-z0-9_-]{5,4000}\.[A-Za-z0-9_-]{5,4000}\.[A-Za-z0-9_-]{8,4000}/g,
      hints: ['eyJ'],
    },
    {
      kind: 'authorization-header',
      pattern:
        /\b(?:Proxy-)?Authorization["']?[ \t]{0,3}[:=][ \t]{0,3}["']?(?:Bearer|Basic|Token|Bot|ApiKey|Negotiate)[ \t]{1,3}([A-Za-z0-9._~+/-]{6,4000}={0,3})/gi,
      groups: [1],
      hints: ['authorization'],
      accept: (secret) => !isPlaceholder(secret),
    },
    {
      kind: 'bearer-token',
      pattern: /\bBearer[ \t]{1,3}([A-Za-z0-9._~+/-]{16,4000}={0,3})/gi,
      groups: [1],
      hints: ['bearer'],
      accept: (secret) => /\d/.test(secret) && /[A-Za-z]/.test(secret),
    },
    {
      kind: 'url-password',
      pattern: /\b[a-z][a-z0-9+.-]{0,30}:\/\/[^\s:@/?#"'<>]{0,200}:([^\s@/?#"'<>]{1,200})@/gi,
      groups: [1],
      hints: ['://'],
      accept: (secret) => !isPlaceholder(secret),
    },
    {
      kind: 'credential-assignment',
      pattern: new RegExp(
        String.raw`(?<![\w.-])(["']?)${KEY_HINT}(-{0,2}[A-Za-z][\w.-]{0,79})\1(${SEPARATOR})(?:${QUOTED_VALUES}|${BARE_VALUE})`,
        'gi',
      ),
      groups: [4, 5, 6],
      accept: acceptAssignment,
    },
    {
      // CLI flags: `--password hunter2`, `--api-key "abc123"`.
      kind: 'credential-assignment',
      pattern: new RegExp(
        String.raw`(?<![\w-])()${KEY_HINT}(--?[A-Za-z][\w-]{0,60})([ \t]{1,3})(?:${QUOTED_VALUES}|${BARE_VALUE})`,
        'gi',
      ),
      groups: [4, 5, 6],
      accept: (secret, match) =>
        isSecretKeyName(match[2] ?? '') && !isPlaceholder(secret) && looksGenerated(secret),
    },
  ];
}
