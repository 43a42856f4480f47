import { PassThrough } from 'node:stream';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import {
  createLogger,
  getTracer,
  type LoggerOptions,
  startTracing,
  withSpan,
} from '../src/index.ts';

function capture(options: Omit<LoggerOptions, 'stream'> = {}) {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  const logger = createLogger('test-service', { ...options, stream });
  const lines = (): Record<string, unknown>[] =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes one JSON line with time, level, service, msg and the fields', () => {
    const { logger, lines } = capture();
    logger.info('stored memory', { tenant: 'acme', count: 2 });
    expect(lines()).toEqual([
      {
        time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        level: 'info',
        service: 'test-service',
        msg: 'stored memory',
        tenant: 'acme',
        count: 2,
      },
    ]);
  });

  it('writes one line per call', () => {
    const { logger, lines } = capture();
    logger.info('one');
    logger.warn('two');
    logger.error('three');
    expect(lines().map((line) => [line.level, line.msg])).toEqual([
      ['info', 'one'],
      ['warn', 'two'],
      ['error', 'three'],
    ]);
  });

  it('drops lines below the configured level', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.debug('hidden');
    logger.info('hidden too');
    logger.warn('shown');
    expect(lines().map((line) => line.msg)).toEqual(['shown']);
  });

  it('serialises an error field as name, message and code without a stack', () => {
    const { logger, lines } = capture();
    const error = Object.assign(new TypeError('backend down'), { code: 'BACKEND_UNAVAILABLE' });
    logger.error('request failed', { error });
    expect(lines()[0]?.error).toEqual({
      name: 'TypeError',
      message: 'backend down',
      code: 'BACKEND_UNAVAILABLE',
    });
  });

  it('includes the error stack at debug level', () => {
    const { logger, lines } = capture({ level: 'debug' });
    logger.error('request failed', { error: new Error('boom') });
    expect(lines()[0]?.error).toMatchObject({ stack: expect.stringContaining('Error: boom') });
  });

  it('adds the child fields to every line of the child', () => {
    const { logger, lines } = capture();
    logger.child({ subject: 'membus.store' }).child({ tenant: 'acme' }).info('handled');
    expect(lines()[0]).toMatchObject({ subject: 'membus.store', tenant: 'acme', msg: 'handled' });
  });

  it('keeps the envelope fields when a call passes the same keys', () => {
    const { logger, lines } = capture();
    logger.info('real', { msg: 'forged', level: 'error', service: 'other' });
    expect(lines()[0]).toMatchObject({ msg: 'real', level: 'info', service: 'test-service' });
  });

  it('does not throw on a circular field', () => {
    const { logger, lines } = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    logger.info('circular', { loop });
    expect(lines()[0]?.loop).toEqual({ name: 'loop', self: '[Circular]' });
  });
});

describe('createLogger inside a span', () => {
  it('adds trace_id and span_id of the active span', async () => {
    await using _tracing = startTracing({
      service: 'test-service',
      exporter: new InMemorySpanExporter(),
    });
    const { logger, lines } = capture();
    await withSpan(getTracer('test'), 'work', {}, async (span) => {
      logger.info('inside');
      const { traceId, spanId } = span.spanContext();
      expect(lines()[0]).toMatchObject({ msg: 'inside', trace_id: traceId, span_id: spanId });
    });
    logger.info('outside');
    expect(lines()[1]).not.toHaveProperty('trace_id');
  });
});
