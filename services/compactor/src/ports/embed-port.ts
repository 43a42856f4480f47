/** Document vectors (L2-normalised) from the embedder, one per text, in order. */
export interface EmbedPort {
  embed(texts: readonly string[]): Promise<Float32Array[]>;
}
