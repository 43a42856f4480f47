import {
  type EmbeddedVectorIndex,
  type EmbeddedVectorIndexOptions,
  type GraphEvent,
  openEmbeddedVectorIndex,
} from '../../src/index.ts';

/**
 * An index whose every search goes through the graph (and its tail), never a full exact scan, so
 * a damaged or stale graph cannot hide behind one; its graph events go to `events`.
 */
export function openGraphSearchedIndex(
  options: Pick<EmbeddedVectorIndexOptions, 'directory' | 'dimension'> &
    Partial<EmbeddedVectorIndexOptions>,
  events: GraphEvent[],
): Promise<EmbeddedVectorIndex> {
  return openEmbeddedVectorIndex({
    exactScanThreshold: 0,
    annCostRatio: 0,
    onGraphEvent: (event) => events.push(event),
    ...options,
  });
}
