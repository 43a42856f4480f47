/**
 * How long an existing index directory takes to open — what a restarted vector-store waits
 * before it answers — and how it opened (from a clean close's snapshot, or from the rows):
 *
 *   node --max-old-space-size=16384 --import tsx packages/embedded-index/bench/open-time.ts \
 *     --directory DIR [--dimension 384] [--cold]
 *
 * `--cold` first drops the directory's files from the page cache (`dd iflag=nocache count=0`,
 * GNU coreutils), as after a reboot. The index is closed cleanly afterwards, so the next run
 * opens from a snapshot again.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openEmbeddedVectorIndex } from '../src/index.ts';

const { values } = parseArgs({
  options: {
    directory: { type: 'string' },
    dimension: { type: 'string', default: '384' },
    cold: { type: 'boolean', default: false },
  },
});
const directory = values.directory;
if (directory === undefined) throw new Error('--directory DIR is required');
if (values.cold)
  for (const name of readdirSync(directory)) {
    const dropped = spawnSync('dd', [`if=${join(directory, name)}`, 'iflag=nocache', 'count=0'], {
      encoding: 'utf8',
    });
    if (dropped.status !== 0)
      throw new Error(`dd could not drop ${name} from the page cache: ${dropped.stderr}`);
  }

const start = performance.now();
const index = await openEmbeddedVectorIndex({ directory, dimension: Number(values.dimension) });
const { count, tail, opened } = index.status();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
console.log(
  `opened ${directory}${values.cold ? ' (cold page cache)' : ''} in ${seconds(performance.now() - start)}: ${count} memories, ${tail} not in the graph; in-memory structures from the ${opened.from} in ${seconds(opened.ms)}${opened.reason ? ` (${opened.reason})` : ''}`,
);
await index.close();
