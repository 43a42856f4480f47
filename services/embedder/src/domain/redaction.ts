/**
 * Masks secrets in memory text and metadata before they are embedded or stored.
 *
 * Every pattern is linear: each quantifier that can run long is bounded or anchored by
 * a literal prefix, so a hostile 1 MB input costs a bounded amount of work per position.
 * Matches are collected on the original text, earlier rules win overlaps, and the
 * output is built once, so a replacement is never matched again.
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

export interface RedactionPolicy {
  /** Off means text passes through unchanged; on by default. */
  enabled?: boolean;
  /** Built-in kinds to look for; all by default. */
  kinds?: readonly SecretKind[];
  /**
   * Extra patterns, checked before the built-in ones. The named group `secret` is masked
   * if present, otherwise the whole match. Keep them linear (bounded quantifiers).
   */
  extraPatterns?: readonly { kind: string; pattern: RegExp }[];
  /** The mask for one secret; `[REDACTED:<kind>]` by default. */
  replacement?: (kind: string) => string;
}

export interface RedactionResult {
  /** The text with every secret masked. */
  text: string;
  /** How many secrets of each kind were masked, by kind name. */
  redactions: { kind: string; count: number }[];
}

export interface MetadataRedactionResult {
  /** The metadata with every secret masked; the same object when nothing was masked. */
  metadata: Record<string, unknown>;
  /** How many secrets of each kind were masked, by kind name. */
  redactions: { kind: string; count: number }[];
}

export interface Redactor {
  redact(text: string): RedactionResult;
  /**
   * Masks secrets in JSON metadata: every string is scanned like text, and every string
   * or number under a secret-looking key (`token`, `password`, `apiKey`, …, at any depth)
   * is replaced by the mask of kind `credential-assignment`.
   */
  redactMetadata(metadata: Record<string, unknown>): MetadataRedactionResult;
}

interface Rule {
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
function isPlaceholder(value: string): boolean {
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

function rules(): Rule[] {
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

function withFlags(pattern: RegExp): RegExp {
  const flags = new Set(pattern.flags.replace(/[gyd]/g, ''));
  return new RegExp(pattern.source, [...flags, 'g', 'd'].join(''));
}

interface Span {
  start: number;
  end: number;
  kind: string;
}

function findSpans(text: string, rule: Rule, covered: Uint8Array, spans: Span[]): void {
  const pattern = rule.pattern;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const matchStart = match.index;
    const matchEnd = matchStart + match[0].length;
    if (match[0].length === 0) {
      pattern.lastIndex = matchStart + 1;
      continue;
    }
    const named = match.indices?.groups?.secret;
    const groupIndex = named ? undefined : rule.groups?.find((group) => match[group] !== undefined);
    const range = named ?? (groupIndex === undefined ? undefined : match.indices?.[groupIndex]);
    if (rule.groups && !range) {
      pattern.lastIndex = matchStart + 1;
      continue;
    }
    const start = range ? range[0] : matchStart;
    let end = range ? range[1] : matchEnd;
    // Sentence punctuation after an unquoted value is not part of the secret.
    const trailing = /["']/.test(text[start - 1] ?? '') ? /\s/ : /[\s.!?:]/;
    while (end > start && trailing.test(text[end - 1] as string)) end--;
    const secret = text.slice(start, end);
    if (end === start || (rule.accept && !rule.accept(secret, match))) {
      // Rejected: look again from the next position, so an inner secret is still found.
      pattern.lastIndex = matchStart + 1;
      continue;
    }
    let free = true;
    for (let index = start; index < end; index++) {
      if (covered[index] === 1) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    covered.fill(1, start, end);
    spans.push({ start, end, kind: rule.kind });
  }
}

// The kind of a value masked because of its key: the same thing as `KEY=value` in text.
const SECRET_FIELD_KIND: SecretKind = 'credential-assignment';

/** Whether a metadata key names a secret: `isSecretKeyName`, plus plural containers. */
function isSecretMetadataKey(key: string): boolean {
  // Not `tokens`: in agent metadata that is usually a count of LLM tokens.
  return isSecretKeyName(key) || /(?:secrets|passwords)$/i.test(key);
}

/** A redactor for one policy; `redact` and `redactMetadata` are pure and safe to call concurrently. */
export function createRedactor(policy: RedactionPolicy = {}): Redactor {
  const enabled = policy.enabled ?? true;
  const kinds = new Set<string>(policy.kinds ?? SecretKinds);
  const replacement = policy.replacement ?? ((kind: string) => `[REDACTED:${kind}]`);
  const extra: Rule[] = (policy.extraPatterns ?? []).map(({ kind, pattern }) => ({
    kind,
    pattern: withFlags(pattern),
  }));
  const builtIn = rules()
    .filter((rule) => kinds.has(rule.kind))
    .map((rule) => ({ ...rule, pattern: withFlags(rule.pattern) }));
  const active = [...extra, ...builtIn];
  const maskSecretFields = kinds.has(SECRET_FIELD_KIND);

  function redactText(text: string): RedactionResult {
    if (!enabled || text.length === 0) return { text, redactions: [] };
    const lower = text.toLowerCase();
    const covered = new Uint8Array(text.length);
    const spans: Span[] = [];
    for (const rule of active) {
      if (rule.hints && !rule.hints.some((hint) => lower.includes(hint.toLowerCase()))) continue;
      findSpans(text, rule, covered, spans);
    }
    if (spans.length === 0) return { text, redactions: [] };
    spans.sort((left, right) => left.start - right.start);
    const counts = new Map<string, number>();
    let output = '';
    let position = 0;
    for (const span of spans) {
      output += text.slice(position, span.start) + replacement(span.kind);
      position = span.end;
      counts.set(span.kind, (counts.get(span.kind) ?? 0) + 1);
    }
    output += text.slice(position);
    return {
      text: output,
      redactions: [...counts].map(([kind, count]) => ({ kind, count })),
    };
  }

  /** The value with its secrets masked, adding to `counts`; the same value if none. */
  function redactValue(
    value: unknown,
    underSecretKey: boolean,
    counts: Map<string, number>,
  ): unknown {
    if (typeof value === 'string') {
      // Empty strings, `${VAR}` references and earlier masks hold no secret to hide.
      if (underSecretKey && value.length > 0 && !isPlaceholder(value)) {
        counts.set(SECRET_FIELD_KIND, (counts.get(SECRET_FIELD_KIND) ?? 0) + 1);
        return replacement(SECRET_FIELD_KIND);
      }
      const result = redactText(value);
      for (const { kind, count } of result.redactions)
        counts.set(kind, (counts.get(kind) ?? 0) + count);
      return result.text;
    }
    // A numeric PIN or password is as secret as a string one; flags and nulls are not.
    if (typeof value === 'number' && underSecretKey) {
      counts.set(SECRET_FIELD_KIND, (counts.get(SECRET_FIELD_KIND) ?? 0) + 1);
      return replacement(SECRET_FIELD_KIND);
    }
    if (Array.isArray(value)) {
      let changed = false;
      const items = value.map((item) => {
        const redacted = redactValue(item, underSecretKey, counts);
        if (redacted !== item) changed = true;
        return redacted;
      });
      return changed ? items : value;
    }
    if (typeof value === 'object' && value !== null) {
      let changed = false;
      const entries = Object.entries(value).map(([key, item]): [string, unknown] => {
        // Everything below a secret key is secret: `credentials: { user, password }`.
        const secret = underSecretKey || (maskSecretFields && isSecretMetadataKey(key));
        const redacted = redactValue(item, secret, counts);
        if (redacted !== item) changed = true;
        return [key, redacted];
      });
      return changed ? Object.fromEntries(entries) : value;
    }
    return value;
  }

  return {
    redact: redactText,
    redactMetadata(metadata: Record<string, unknown>): MetadataRedactionResult {
      if (!enabled) return { metadata, redactions: [] };
      const counts = new Map<string, number>();
      const redacted = redactValue(metadata, false, counts) as Record<string, unknown>;
      return {
        metadata: redacted,
        redactions: [...counts].map(([kind, count]) => ({ kind, count })),
      };
    },
  };
}
