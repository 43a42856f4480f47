import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  MembusError,
  noticeSubject,
  type Operation,
  Operations,
  operationJsonSchemas,
  Streams,
  Subjects,
  subjectOf,
  subjectWildcard,
} from '../src/index.ts';

const operations = Object.values(Operations) as Operation[];

/** Whether each object a schema can be (each option of a union) refuses fields it does not know. */
function refusesUnknownFields(schema: z.ZodType): boolean[] {
  const def = schema._zod.def as {
    type: string;
    options?: z.ZodType[];
    in?: z.ZodType;
    catchall?: z.ZodType;
  };
  if (def.type === 'union') return (def.options ?? []).flatMap(refusesUnknownFields);
  if (def.type === 'pipe' && def.in) return refusesUnknownFields(def.in);
  if (def.type === 'object') return [def.catchall?._zod.def.type === 'never'];
  throw new Error(`not a message schema: ${def.type}`);
}

describe('the operations table', () => {
  it('names every operation by its subject base', () => {
    expect(operations.filter((operation) => operation.name !== operation.subject)).toEqual([]);
    expect(Subjects.store).toBe('memory.store');
    expect(Subjects.sessionEnd).toBe('memory.session.end');
    expect(Subjects.compacted).toBe('memory.compacted');
  });

  it('puts each JetStream operation in a stream that captures its subject', () => {
    const missed = operations
      .filter((operation) => operation.kind === 'jetstream')
      .filter(
        (operation) =>
          !(Streams[operation.stream].subjects as readonly string[]).includes(
            subjectWildcard(operation),
          ),
      )
      .map((operation) => operation.name);
    expect(missed).toEqual([]);
  });

  it('builds subjects with the tenant last, and the notice token after it', () => {
    expect({
      query: subjectOf(Operations.query, 'acme'),
      embed: subjectOf(Operations.embed),
      notice: subjectOf(Operations.notice, 'acme', 'token-1'),
      served: subjectWildcard(Operations.query),
      notices: subjectWildcard(Operations.notice),
      fromStore: noticeSubject('memory.store.acme', 'token-1'),
      forged: noticeSubject('memory.store.acme', 'a.>'),
    }).toEqual({
      query: 'memory.query.acme',
      embed: 'memory.embed',
      notice: 'memory.notice.acme.token-1',
      served: 'memory.query.*',
      notices: 'memory.notice.*.*',
      fromStore: 'memory.notice.acme.token-1',
      forged: undefined,
    });
  });

  it('refuses a tenant or token that could widen a subject', () => {
    const codes = [
      () => subjectOf(Operations.query, 'a.>'),
      () => subjectOf(Operations.query, undefined),
      () => subjectOf(Operations.notice, 'acme', '*'),
    ].map((build) => {
      try {
        build();
        return 'built';
      } catch (error) {
        return MembusError.is(error) ? error.code : 'untyped';
      }
    });
    expect(codes).toEqual(['INVALID_TENANT', 'INVALID_TENANT', 'INVALID_MESSAGE']);
  });

  it('lets agents call only tenant-scoped operations', () => {
    expect(
      operations
        .filter((operation) => operation.agents !== 'none' && !operation.tenantScoped)
        .map((operation) => operation.name),
    ).toEqual([]);
  });
});

describe('operationJsonSchemas', () => {
  const schemas = operationJsonSchemas();

  it('converts the request and reply of every tenant-facing operation', () => {
    const facing = Object.values(schemas).filter((schema) => schema.agents !== 'none');
    expect(facing.length).toBeGreaterThan(10);
    const incomplete = facing
      .filter((schema) =>
        schema.kind === 'request'
          ? schema.request?.type !== 'object' || schema.reply?.type !== 'object'
          : schema.message?.type !== 'object',
      )
      .map((schema) => schema.name);
    expect(incomplete).toEqual([]);
  });

  it('converts every operation', () => {
    expect(Object.keys(schemas)).toEqual(Object.keys(Operations));
  });

  it('describes a store as a sender writes it: defaults optional, text required', () => {
    const store = schemas.store.message as {
      properties: Record<string, { type?: unknown }>;
      required: string[];
    };
    expect({
      required: [...store.required].sort(),
      metadata: store.properties.metadata?.type,
    }).toEqual({ required: ['id', 'text', 'v'], metadata: 'object' });
  });

  it('keeps a JSON shape for every custom check (metadata, filters, outcome config)', () => {
    const text = JSON.stringify(schemas);
    expect(text).not.toContain('"not":{}');
    expect(JSON.stringify(schemas.query.request)).toContain('"filter"');
  });
});

describe('version-1 messages', () => {
  it('checks what agents send whole, and lets them read what they are sent as far as they know it', () => {
    const sent = operations.flatMap((operation) =>
      operation.kind === 'request'
        ? [operation.request]
        : operation.agents === 'call'
          ? [operation.message]
          : [],
    );
    const read = operations.flatMap((operation) =>
      operation.kind === 'request'
        ? [operation.reply]
        : operation.kind === 'event'
          ? [operation.message]
          : [],
    );
    expect(sent.length).toBeGreaterThan(20);
    expect(sent.flatMap(refusesUnknownFields)).not.toContain(false);
    expect(read.length).toBeGreaterThan(20);
    expect(read.flatMap(refusesUnknownFields)).not.toContain(true);
  });
});
