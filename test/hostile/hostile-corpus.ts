/**
 * The shared hostile corpus: payloads no membus schema accepts (broken JSON, wrong types and
 * versions, prototype keys, deep nesting, huge strings, Unicode edge cases, filter injection).
 */
import fc from 'fast-check';

export const encoder = new TextEncoder();

/** Hostile label values: lone surrogates, bidi overrides, NUL, prototype keys, wildcards. */
export const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constantFrom(
    '\uD800',
    '\uDFFF',
    '\u202Eevil',
    '\u200B',
    '\u0000',
    '__proto__',
    'constructor',
    'memory.*.other',
    'a.b.>',
    ' ',
    '',
  ),
);
const json = fc.jsonValue({ maxDepth: 4 });
/** A payload that is invalid for every membus schema, as raw bytes. */
export const hostilePayload: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    // Not JSON at all / broken JSON / raw non-finite numbers.
    fc.constantFrom('{', '', 'null', '[1,2', '{"v":1,"vector":[1e999]}', '{"v":1,"vector":[NaN]}'),
    fc.string({ unit: 'binary', maxLength: 200 }),
    // Wrong types and wrong versions.
    fc
      .record({ v: fc.oneof(fc.constant(2), fc.string(), fc.constant(null)), text: json })
      .map((value) => JSON.stringify(value)),
    // Prototype pollution and unknown keys.
    fc
      .record({
        key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'tenant'),
        value: json,
      })
      .map(({ key, value }) => `{"v":1,"${key}":${JSON.stringify(value)},"text":"x","ids":[]}`),
    // Deep nesting.
    fc.integer({ min: 50, max: 2_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
    fc
      .integer({ min: 20, max: 200 })
      .map((depth) => `{"v":1,"metadata":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`),
    // Huge strings and arrays, wrong dimensions.
    fc.constantFrom(
      JSON.stringify({ v: 1, text: 'x'.repeat(40_000) }),
      JSON.stringify({ v: 1, vector: new Array(5_000).fill(0.1) }),
      JSON.stringify({ v: 1, vector: [0.1, 0.2, 0.3] }),
      JSON.stringify({ v: 1, ids: new Array(600).fill('01935c3e-0000-7000-8000-000000000000') }),
      JSON.stringify({ v: 1, text: 'y'.repeat(300_000) }),
    ),
    // Unicode edge cases in every label.
    fc
      .record({ id: nasty, text: nasty, userId: nasty, namespace: nasty })
      .map((value) => JSON.stringify({ v: 1, ...value })),
    // Filter injection.
    fc
      .record({ field: nasty, op: fc.constantFrom('eq', '$where', 'regex', 'in'), value: json })
      .map((condition) => JSON.stringify({ v: 1, filter: { metadata: condition }, id: 'x' })),
  )
  .map((value) => (typeof value === 'string' ? encoder.encode(value) : value));
