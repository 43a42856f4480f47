/** Packs float32s as little-endian base64 (4 bytes a dimension; JSON numbers cost ~4x more). */
export function packVector(vector: ArrayLike<number>): string {
  const floats =
    vector instanceof Float32Array ? vector : Float32Array.from(vector as ArrayLike<number>);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString('base64');
}

/** Unpacks {@link packVector}; returns undefined when the bytes are not whole float32s or not finite. */
export function unpackVector(packed: string): Float32Array | undefined {
  const bytes = Buffer.from(packed, 'base64');
  if (bytes.byteLength === 0 || bytes.byteLength % 4 !== 0) return undefined;
  const copy = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  for (const value of copy) if (!Number.isFinite(value)) return undefined;
  return copy;
}
