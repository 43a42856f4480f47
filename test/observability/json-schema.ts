/**
 * A JSON Schema (draft-07) validator for the keywords the compose specification schema uses:
 * type, enum, properties, patternProperties, additionalProperties, required, items, oneOf,
 * $ref (local), minimum, maximum, pattern, uniqueItems. A schema using any other assertion
 * keyword is rejected, so a newer schema cannot silently pass unchecked.
 * (No JSON Schema library is a dependency of this repository.)
 */
type Schema = boolean | { [keyword: string]: unknown };

const annotations = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'default',
  'deprecated',
  'definitions',
  'examples',
  '$comment',
]);
const assertions = new Set([
  'type',
  'enum',
  'properties',
  'patternProperties',
  'additionalProperties',
  'required',
  'items',
  'oneOf',
  'anyOf',
  'allOf',
  '$ref',
  'minimum',
  'maximum',
  'pattern',
  'uniqueItems',
]);

/** Every violation as `<json pointer>: <problem>`; empty when `value` is valid. */
export function validate(root: Schema, value: unknown): string[] {
  const errors: string[] = [];
  check(root, root, value, '', errors);
  return errors;
}

function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`only local $ref is supported: ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown>)[part];
  if (node === undefined) throw new Error(`unresolved $ref ${ref}`);
  return node as Schema;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

function check(root: Schema, schema: Schema, value: unknown, at: string, errors: string[]): void {
  if (schema === true) return;
  if (schema === false) {
    errors.push(`${at}: not allowed`);
    return;
  }
  for (const keyword of Object.keys(schema)) {
    if (!annotations.has(keyword) && !assertions.has(keyword)) {
      throw new Error(`unsupported JSON Schema keyword "${keyword}" at ${at || '/'}`);
    }
  }
  if (typeof schema.$ref === 'string') {
    check(root, resolve(root, schema.$ref), value, at, errors);
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((type) => matchesType(value, type))) {
      errors.push(`${at}: expected ${types.join(' | ')}, got ${typeOf(value)}`);
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => option === value)) {
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      errors.push(`${at}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      errors.push(`${at}: above ${schema.maximum}`);
  }
  if (typeof value === 'string' && typeof schema.pattern === 'string') {
    if (!new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${at}: does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.items !== undefined) {
      value.forEach((item, index) => {
        check(root, schema.items as Schema, item, `${at}/${index}`, errors);
      });
    }
    if (schema.uniqueItems === true) {
      const seen = new Set(value.map((item) => JSON.stringify(item)));
      if (seen.size !== value.length) errors.push(`${at}: items are not unique`);
    }
  }
  if (typeOf(value) === 'object') checkObject(root, schema, value as object, at, errors);
  for (const [keyword, combine] of [
    ['oneOf', (passed: number, total: number) => passed === 1 || `${passed} of ${total} match`],
    ['anyOf', (passed: number) => passed >= 1 || 'none matches'],
    ['allOf', (passed: number, total: number) => passed === total || `${passed} of ${total}`],
  ] as const) {
    const options = schema[keyword];
    if (!Array.isArray(options)) continue;
    const passed = options.filter((option: Schema) => {
      const inner: string[] = [];
      check(root, option, value, at, inner);
      return inner.length === 0;
    }).length;
    const verdict = combine(passed, options.length);
    if (verdict !== true) errors.push(`${at}: ${keyword} failed (${verdict})`);
  }
}

function checkObject(
  root: Schema,
  schema: Exclude<Schema, boolean>,
  value: object,
  at: string,
  errors: string[],
): void {
  const record = value as Record<string, unknown>;
  for (const name of (schema.required as string[] | undefined) ?? []) {
    if (!(name in record)) errors.push(`${at}: missing required "${name}"`);
  }
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, Schema>).map(
    ([pattern, inner]) => [new RegExp(pattern, 'u'), inner] as const,
  );
  for (const [name, child] of Object.entries(record)) {
    const path = `${at}/${name}`;
    let known = false;
    if (Object.hasOwn(properties, name)) {
      known = true;
      check(root, properties[name] as Schema, child, path, errors);
    }
    for (const [pattern, inner] of patterns) {
      if (!pattern.test(name)) continue;
      known = true;
      check(root, inner, child, path, errors);
    }
    if (!known && schema.additionalProperties !== undefined) {
      check(root, schema.additionalProperties as Schema, child, path, errors);
    }
  }
}
