/** Cosine similarity of two L2-normalised vectors. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += (a[index] as number) * (b[index] as number);
  return sum;
}

/** Text normalised for exact-duplicate detection: case, spacing and trailing punctuation. */
export function normaliseText(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[.!?;,\s]+$/, '')
    .trim();
}

/** UTF-8 bytes a memory takes: its text plus its JSON metadata. */
export function memoryBytes(memory: { text: string; metadata?: Record<string, unknown> }): number {
  return (
    Buffer.byteLength(memory.text) +
    (memory.metadata && Object.keys(memory.metadata).length > 0
      ? Buffer.byteLength(JSON.stringify(memory.metadata))
      : 0)
  );
}

/**
 * Groups indexes whose vectors are at least `threshold` similar (single linkage, union-find).
 * Returns clusters of two or more, each in ascending index order.
 */
export function similarityClusters(
  vectors: readonly Float32Array[],
  threshold: number,
  onPair?: (a: number, b: number, similarity: number) => void,
): number[][] {
  const parent = vectors.map((_, index) => index);
  const find = (index: number): number => {
    let root = index;
    while (parent[root] !== root) root = parent[root] as number;
    parent[index] = root;
    return root;
  };
  for (let a = 0; a < vectors.length; a++) {
    for (let b = a + 1; b < vectors.length; b++) {
      const similarity = cosine(vectors[a] as Float32Array, vectors[b] as Float32Array);
      if (similarity < threshold) continue;
      onPair?.(a, b, similarity);
      const rootA = find(a);
      const rootB = find(b);
      if (rootA !== rootB) parent[Math.max(rootA, rootB)] = Math.min(rootA, rootB);
    }
  }
  const clusters = new Map<number, number[]>();
  for (let index = 0; index < vectors.length; index++) {
    const root = find(index);
    clusters.set(root, [...(clusters.get(root) ?? []), index]);
  }
  return [...clusters.values()].filter((cluster) => cluster.length > 1);
}
