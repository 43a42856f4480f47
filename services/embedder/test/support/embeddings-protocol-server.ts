import { createHash } from 'node:crypto';
import { type ProtocolDouble, startProtocolDouble } from '@membus/bus/testing';

export type { ScriptedResponse } from '@membus/bus/testing';

export interface EmbeddingsRequestLog {
  model: string;
  input: string[];
  dimensions?: number;
  encodingFormat?: string;
  authorization?: string;
}

export type EmbeddingsProtocolServer = ProtocolDouble<EmbeddingsRequestLog>;

/**
 * A protocol test double of OpenAI's `POST /v1/embeddings` on a random local port: no model
 * endpoint is reachable from the test machines, so this speaks the wire protocol (request
 * body, `data[].index/embedding`, `usage`, error bodies, `retry-after`) with deterministic
 * vectors: a text's vector is derived from SHA-256 of the text, deliberately not
 * L2-normalised, so the provider's normalisation is exercised too.
 */
export function startEmbeddingsProtocolServer(options: {
  dimension: number;
}): Promise<EmbeddingsProtocolServer> {
  const inputOf = (body: { input: string | string[] }): string[] =>
    Array.isArray(body.input) ? body.input : [body.input];
  return startProtocolDouble<
    { model: string; input: string | string[]; dimensions?: number; encoding_format?: string },
    EmbeddingsRequestLog
  >({
    path: '/v1/embeddings',
    record: (body) => ({
      model: body.model,
      input: inputOf(body),
      ...(body.dimensions !== undefined ? { dimensions: body.dimensions } : {}),
      ...(body.encoding_format !== undefined ? { encodingFormat: body.encoding_format } : {}),
    }),
    answer: (body) => {
      const input = inputOf(body);
      const dimension = body.dimensions ?? options.dimension;
      const data = input.map((text, index) => {
        const vector = deterministicVector(text, dimension);
        return {
          object: 'embedding',
          index,
          embedding:
            body.encoding_format === 'base64'
              ? Buffer.from(new Float32Array(vector).buffer).toString('base64')
              : vector,
        };
      });
      const tokens = input.reduce((sum, text) => sum + Math.max(1, Math.ceil(text.length / 4)), 0);
      return {
        object: 'list',
        data,
        model: body.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },
  });
}

/** Entries in [-2, 2) from SHA-256(text || counter): stable, distinct per text, not unit length. */
export function deterministicVector(text: string, dimension: number): number[] {
  const vector: number[] = [];
  for (let block = 0; vector.length < dimension; block++) {
    const digest = createHash('sha256').update(`${block}\u0000${text}`).digest();
    for (let offset = 0; offset + 2 <= digest.length && vector.length < dimension; offset += 2) {
      vector.push((digest.readUInt16BE(offset) / 65_536) * 4 - 2);
    }
  }
  return vector;
}
