import { MembusError } from '@membus/contracts';
import type { Embedder } from './embedder.ts';

/**
 * The models one embedder serves on `memory.embed`: its own (the store path's) and the extra
 * ones a re-embedding writes with (decision 011), by the model id each reports. A request naming
 * a model it does not serve is NOT_FOUND: never another model's vectors, which would sit in an
 * index beside vectors they cannot be compared with.
 */
export class ServedModels {
  readonly #primary: Embedder;
  readonly #byModel: ReadonlyMap<string, Embedder>;

  constructor(primary: Embedder, extras: readonly Embedder[] = []) {
    this.#primary = primary;
    this.#byModel = new Map([primary, ...extras].map((embedder) => [embedder.model, embedder]));
  }

  /** Every model id served, the store path's first. */
  get models(): string[] {
    return [...this.#byModel.keys()];
  }

  /** The embedder of `model`; the store path's when absent. */
  embedder(model: string | undefined): Embedder {
    if (model === undefined) return this.#primary;
    const embedder = this.#byModel.get(model);
    if (embedder) return embedder;
    throw new MembusError('NOT_FOUND', `the embedder does not serve model ${model}`, {
      details: { model, served: this.models },
    });
  }
}
