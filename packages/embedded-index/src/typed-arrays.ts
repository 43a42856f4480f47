type GrowableArray = Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array;

/** A copy of `array` at least `atLeast` long (doubling), the same type, the tail zeroed. */
export function grow<T extends GrowableArray>(array: T, atLeast: number): T {
  let length = Math.max(4, array.length);
  while (length < atLeast) length *= 2;
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array);
  return next;
}
