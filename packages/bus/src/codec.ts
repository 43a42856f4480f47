import { Limits, MembusError } from '@membus/contracts';
import type { z } from 'zod';

const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: MembusError };

/** The one place bytes become typed values: size check, UTF-8, JSON, schema. */
export function decode<S extends z.ZodType>(schema: S, data: Uint8Array): Decoded<z.output<S>> {
  if (data.byteLength > Limits.messageBytes) {
    return {
      ok: false,
      error: new MembusError(
        'LIMIT_EXCEEDED',
        `message is ${data.byteLength} bytes; the limit is ${Limits.messageBytes}`,
        {
          details: { limit: Limits.messageBytes, actual: data.byteLength },
        },
      ),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(textDecoder.decode(data));
  } catch (cause) {
    return {
      ok: false,
      error: new MembusError('INVALID_MESSAGE', 'payload is not UTF-8 JSON', { cause }),
    };
  }
  return validate(schema, json);
}

/** Validates an already-parsed value. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): Decoded<z.output<S>> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, error: validationError(parsed.error) };
}

/** A zod error as INVALID_MESSAGE (or LIMIT_EXCEEDED when a size bound was hit). */
export function validationError(error: z.ZodError): MembusError {
  const issues = error.issues.slice(0, 10).map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const tooBig = error.issues.some((issue) => issue.code === 'too_big');
  const first = issues[0];
  const summary = first ? `${first.path || '(root)'}: ${first.message}` : 'invalid message';
  return new MembusError(tooBig ? 'LIMIT_EXCEEDED' : 'INVALID_MESSAGE', summary, {
    details: { issues },
  });
}

export function encode(value: unknown): Uint8Array {
  return textEncoder.encode(JSON.stringify(value));
}
