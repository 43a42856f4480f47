/**
 * The fields that have a value, those that are undefined, null or '' left out: an options
 * object with no empty keys, as `exactOptionalPropertyTypes` wants it.
 */
export function definedFields<T extends Record<string, unknown>>(
  fields: T,
): { [K in keyof T]?: Exclude<T[K], undefined | null> } {
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([, value]) => value !== undefined && value !== null && value !== '',
    ),
  ) as { [K in keyof T]?: Exclude<T[K], undefined | null> };
}
