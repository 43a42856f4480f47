// The graph's nodes read their codes from the arena's pages (native/arena-graph.cpp): no copy
// in usearch, so the pages must stay the codes' only home. These tests move the pages under a
// built graph (the arena leaves a full WebAssembly memory, whose freed blocks another arena then
// fills with its own codes) and reload a saved graph over them; a node still pointing at a
// page's old place would then answer with the other arena's vectors.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '@membus/vector-index/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  GraphMaintainer,
  type GraphMaintainerOptions,
  IDLE_PRIORITY_TAIL,
} from '../src/graph-maintainer.ts';
import { createGraph } from '../src/hnsw-graph.ts';
import { CodeMemory } from '../src/int8-dot.ts';
import { type ArenaGraph, arenaGraphAvailable } from '../src/usearch-binding.ts';
import { VectorArena } from '../src/vector-arena.ts';
import { directoryPerTest } from './helpers/directory-per-test.ts';

const DIMENSION = 16;
/** The arena's pages hold 4,096 slots (64 KiB at 16 dimensions): a 2-page memory holds two. */
const COUNT = 10_000;

function unitVectors(count: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const vector = Float32Array.from({ length: DIMENSION }, () => random() - 0.5);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  });
}

describe('the graph over the arena pages', () => {
  const maintainers: GraphMaintainer[] = [];
  const directory = directoryPerTest('membus-arena-graph-', async () => {
    for (const maintainer of maintainers.splice(0)) await maintainer.close(false);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /**
   * A maintainer over `arena`'s slots 0..count-1 (less `deleted`) that is never idle (batches of
   * 128, one thread) and saves only when asked; closed after the test.
   */
  const neverIdle = (
    arena: VectorArena,
    count: number,
    deleted: ReadonlySet<number> = new Set(),
  ): GraphMaintainer => {
    const maintainer: GraphMaintainer = new GraphMaintainer(
      {
        directory: directory.path,
        dimension: DIMENSION,
        hnsw: { m: 16, efConstruction: 64, efSearch: 64 },
        indexSliceMs: 1,
        idleIndexSliceMs: 4,
        idleAfterMs: Number.POSITIVE_INFINITY,
        saveEveryChanges: Number.MAX_SAFE_INTEGER,
        saveQuietMs: 60_000,
        onGraphEvent: undefined,
      },
      arena,
      {
        liveCount: () => count - deleted.size,
        watermark: () => count,
        seqOf: (slot) => (slot < count && !deleted.has(slot) ? slot + 1 : undefined),
        ensureSlot: (slot) => maintainer.ensure(slot),
      },
    );
    maintainers.push(maintainer);
    return maintainer;
  };

  it('is built over the arena (the addon is compiled at install)', () => {
    expect(arenaGraphAvailable()).toBe(true);
  });

  // unum-cloud/USearch#735: usearch's concurrent adds left nodes that no search reaches (28 of
  // these 60,000 points not in their own top 10 with usearch's add unpatched; see
  // native/usearch-patch.mjs).
  it('adds with two threads, and every point is found by its own vector', () => {
    const builds = 20;
    const count = 3_000;
    let strays = 0;
    for (let build = 0; build < builds; build++) {
      const graph = createGraph(DIMENSION, { m: 32, efConstruction: 128, efSearch: 64 });
      expect(graph.concurrentAdds).toBe(true);
      const page = new Int8Array(4_096 * DIMENSION);
      for (const [slot, vector] of unitVectors(count, 100 + build).entries())
        page.set(
          vector.map((value) => Math.round(value * 127)),
          slot * DIMENSION,
        );
      graph.setPages([page], 4_096);
      graph.addSlots(
        BigUint64Array.from({ length: count }, (_, slot) => BigInt(slot)),
        2,
      );
      for (let slot = 0; slot < count; slot++) {
        const [keys, , found] = graph.search(
          page.slice(slot * DIMENSION, (slot + 1) * DIMENSION),
          10,
          1,
        );
        if (!keys.subarray(0, Number(found[0])).includes(BigInt(slot))) strays += 1;
      }
    }
    expect(strays).toBe(0);
  });

  it('refuses keys past the pages and queries of another dimension, the graph unchanged', () => {
    const graph = createGraph(DIMENSION, { m: 16, efConstruction: 64, efSearch: 64 });
    const page = new Int8Array(4_096 * DIMENSION);
    page.set(Int8Array.from({ length: DIMENSION }, (_, at) => at - 8));
    graph.setPages([page], 4_096);
    graph.addSlots(new BigUint64Array([0n]), 1);
    expect(() => graph.addSlots(new BigUint64Array([1n, 4_096n]), 1)).toThrow(
      /past the arena's pages/,
    );
    expect(() => graph.search(new Int8Array(DIMENSION + 1), 1, 1)).toThrow(/dimension/);
    expect(() => graph.setPages([], 4_096)).toThrow(/cannot shrink/);
    expect(graph.size()).toBe(1);
    const [keys, , counts] = graph.search(page.slice(0, DIMENSION), 2, 1);
    expect([...keys.subarray(0, Number(counts[0]))]).toEqual([0n]);
  });

  it('refuses what would race with a running background add, and searches meanwhile', async () => {
    const graph = createGraph(DIMENSION, { m: 16, efConstruction: 64, efSearch: 64 });
    const page = new Int8Array(4_096 * DIMENSION);
    const vectors = unitVectors(2_000, 5);
    for (const [slot, vector] of vectors.entries())
      page.set(
        vector.map((value) => Math.round(value * 127)),
        slot * DIMENSION,
      );
    graph.setPages([page], 4_096);
    graph.addSlots(
      BigUint64Array.from({ length: 1_000 }, (_, slot) => BigInt(slot)),
      1,
    );
    const adding = graph.addSlotsAsync(
      BigUint64Array.from({ length: 1_000 }, (_, at) => BigInt(1_000 + at)),
      2,
      { sliceMs: 1 },
    );
    expect(() => graph.remove(new BigUint64Array([3n]))).toThrow(/being added/);
    expect(() => graph.setPages([page], 4_096)).toThrow(/being added/);
    expect(() => graph.save(join(directory.path, 'g.usearch'))).toThrow(/being added/);
    const [during] = graph.search(page.slice(7 * DIMENSION, 8 * DIMENSION), 1, 1);
    expect(during[0]).toBe(7n);
    await adding;
    expect(graph.size()).toBe(2_000);
    const [after] = graph.search(page.slice(1_500 * DIMENSION, 1_501 * DIMENSION), 1, 1);
    expect(after[0]).toBe(1_500n);
    expect(graph.remove(new BigUint64Array([3n]))).toEqual([1]);
  });

  // Linux with transparent huge pages: a mapping advised MADV_HUGEPAGE shows `hg` in its VmFlags
  // (/proc/self/smaps), whatever the host's THP mode. Every search reads codes and nodes at
  // random; at 10M the build ran 14 % faster with them (decision 002).
  it.runIf(process.platform === 'linux' && existsSync('/sys/kernel/mm/transparent_hugepage'))(
    'asks for huge pages under the codes it is given and under its own nodes',
    () => {
      const advisedBytes = (): number => {
        let total = 0;
        let size = 0;
        for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
          const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
          if (range) size = Number.parseInt(range[2]!, 16) - Number.parseInt(range[1]!, 16);
          else if (line.startsWith('VmFlags:') && line.split(' ').includes('hg')) total += size;
        }
        return total;
      };
      const MiB = 2 ** 20;
      const pageSlots = MiB / DIMENSION;
      const codes = new Int8Array(16 * MiB);
      const random = seededRandom(21);
      for (let at = 0; at < codes.length; at++) codes[at] = Math.floor(random() * 255) - 127;
      const graph = createGraph(DIMENSION, { m: 16, efConstruction: 32, efSearch: 32 });
      const before = advisedBytes();
      graph.setPages(
        Array.from({ length: 16 }, (_, page) => codes.subarray(page * MiB, (page + 1) * MiB)),
        pageSlots,
      );
      const withCodes = advisedBytes();
      // All of it, the pages' ends rounded outwards to 4 KiB (so that pages lying end to end
      // leave no unadvised gap between them).
      expect(withCodes - before).toBeGreaterThanOrEqual(16 * MiB);
      graph.addSlots(
        BigUint64Array.from({ length: 20_000 }, (_, slot) => BigInt(slot)),
        1,
      );
      // The nodes' tape: usearch's first arena is 8 MiB.
      expect(advisedBytes() - withCodes).toBeGreaterThanOrEqual(8 * MiB);
    },
  );

  // Linux only: a thread's nice value is field 19 of /proc/self/task/<tid>/stat, its scheduling
  // policy field 41 (5: SCHED_IDLE).
  for (const idlePriority of [false, true])
    it.runIf(process.platform === 'linux')(
      `adds in the background on threads of lower priority (${idlePriority ? 'the idle class' : 'nice 10'}), the event loop’s untouched`,
      async () => {
        const fieldsOf = (tid: string): string[] | undefined => {
          try {
            const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
            // The fields after the command name, which is in parentheses and may hold spaces.
            return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          } catch {
            return undefined; // the thread ended meanwhile
          }
        };
        const NICE = 16;
        const POLICY = 38;
        const SCHED_IDLE = 5;
        const lowered = (fields: string[]) =>
          idlePriority
            ? Number(fields[POLICY]) === SCHED_IDLE
            : Number(fields[NICE]) === 10 && Number(fields[POLICY]) === 0;
        // Enough for the add to outlast a few looks at the threads; few enough for the idle
        // class to finish on a host whose cores are busy with the other test files.
        const count = 6_000;
        const graph = createGraph(DIMENSION, { m: 32, efConstruction: 128, efSearch: 64 });
        const page = new Int8Array(count * DIMENSION);
        const random = seededRandom(9);
        for (let at = 0; at < page.length; at++) page[at] = Math.round((random() - 0.5) * 254);
        graph.setPages([page], count);
        let done = false;
        const adding = graph
          .addSlotsAsync(
            BigUint64Array.from({ length: count }, (_, slot) => BigInt(slot)),
            2,
            { sliceMs: 1, idlePriority },
          )
          .finally(() => {
            done = true;
          });
        let seen = false;
        while (!done && !seen) {
          for (const tid of readdirSync('/proc/self/task')) {
            const fields = fieldsOf(tid);
            if (fields !== undefined && lowered(fields)) seen = true;
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
        await adding;
        expect(seen).toBe(true);
        const main = fieldsOf(String(process.pid))!;
        expect([Number(main[NICE]), Number(main[POLICY])]).toEqual([0, 0]);
        expect(graph.size()).toBe(count);
      },
    );

  it('adds in the idle class while few slots wait for the graph, at nice 10 past IDLE_PRIORITY_TAIL', async () => {
    const count = IDLE_PRIORITY_TAIL + 200;
    const arena = new VectorArena(DIMENSION);
    const maintainer = neverIdle(arena, count);
    await maintainer.load('store', 0);
    const graph = (maintainer as unknown as { graph: ArenaGraph }).graph;
    const adds = vi.spyOn(graph, 'addSlotsAsync');
    for (const [slot, vector] of unitVectors(count, 23).entries()) {
      arena.set(slot, vector);
      maintainer.ensure(slot);
      maintainer.replace(slot);
    }
    maintainer.schedule();
    // Polled with a deadline: batches of 128 take the tail under the line after two.
    const deadline = Date.now() + 60_000;
    const idle = () => adds.mock.calls.map(([, , options]) => options.idlePriority);
    while (!idle().includes(true) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(idle().slice(0, 2)).toEqual([false, false]);
    expect(idle()[2]).toBe(true);
  });

  for (const kind of ['arena', 'copy'] as const)
    it(`keeps what was written while a batch was being added (${kind})`, async () => {
      vi.stubEnv('MEMBUS_GRAPH_COPIES', kind === 'copy' ? '1' : '0');
      const count = 3_000;
      const arena = new VectorArena(DIMENSION);
      const vectors = unitVectors(count, 21);
      const deleted = new Set<number>();
      const maintainer = neverIdle(arena, count, deleted);
      await maintainer.load('store', 0);
      for (const [slot, vector] of vectors.entries()) {
        arena.set(slot, vector);
        maintainer.ensure(slot);
        maintainer.replace(slot);
      }
      maintainer.schedule();
      // The first batch (the tail's first slots) is on its way into the graph.
      await new Promise((resolve) => setImmediate(resolve));
      expect(maintainer.isAdding).toBe(true);
      const [moved] = unitVectors(1, 22);
      arena.set(0, moved!);
      maintainer.replace(0);
      deleted.add(1);
      maintainer.remove(1);
      await maintainer.whenIndexed();
      expect(maintainer.lastError).toBeUndefined();
      expect(maintainer.search(moved!, 1, 1, () => true)).toEqual([0]);
      expect(maintainer.search(vectors[0]!, 1, 1, () => true)).not.toEqual([0]);
      expect(maintainer.search(vectors[1]!, 5, 5, () => true)).not.toContain(1);
      for (let slot = 2; slot < count; slot += 61)
        expect(maintainer.search(vectors[slot]!, 1, 1, () => true)).toEqual([slot]);
      // A save waits for a running add instead of racing with it (the rebuild's own save first).
      await maintainer.save();
      arena.set(
        2,
        moved!.map((value) => -value),
      );
      maintainer.replace(2);
      maintainer.schedule();
      await new Promise((resolve) => setImmediate(resolve));
      expect(maintainer.isAdding).toBe(true);
      await maintainer.save();
      expect(maintainer.isAdding).toBe(false);
      // Two saves asked while an add runs: the second waits for the first's file.
      arena.set(
        3,
        moved!.map((value) => value / 2),
      );
      maintainer.replace(3);
      maintainer.schedule();
      await new Promise((resolve) => setImmediate(resolve));
      expect(maintainer.isAdding).toBe(true);
      await Promise.all([maintainer.save(), maintainer.save()]);
      expect(maintainer.lastError).toBeUndefined();
      // A removal while the file is written waits for it (the addon refuses one meanwhile).
      const saved = maintainer.save();
      await new Promise((resolve) => setImmediate(resolve));
      expect(maintainer.isSaving).toBe(true);
      deleted.add(7);
      maintainer.remove(7);
      await saved;
      expect(maintainer.search(vectors[7]!, 5, 5, () => true)).not.toContain(7);
      expect(maintainer.search(vectors[8]!, 1, 1, () => true)).toEqual([8]);
    });

  for (const kind of ['arena', 'copy'] as const)
    it(`finds every point by its own vector after its pages moved and after a reload (${kind})`, async () => {
      vi.stubEnv('MEMBUS_GRAPH_COPIES', kind === 'copy' ? '1' : '0');
      const memory = new CodeMemory(2);
      const arena = new VectorArena(DIMENSION, undefined, undefined, memory);
      const vectors = unitVectors(COUNT, 11);
      const open = async (): Promise<GraphMaintainer> => {
        const options: GraphMaintainerOptions = {
          directory: directory.path,
          dimension: DIMENSION,
          hnsw: { m: 16, efConstruction: 64, efSearch: 64 },
          indexSliceMs: 50,
          idleIndexSliceMs: 50,
          idleAfterMs: 0,
          saveEveryChanges: Number.MAX_SAFE_INTEGER,
          saveQuietMs: 60_000,
          onGraphEvent: undefined,
        };
        const maintainer: GraphMaintainer = new GraphMaintainer(options, arena, {
          liveCount: () => COUNT,
          watermark: () => COUNT,
          seqOf: (slot) => (slot < COUNT ? slot + 1 : undefined),
          ensureSlot: (slot) => maintainer.ensure(slot),
        });
        maintainers.push(maintainer);
        return maintainer;
      };
      const first = await open();
      await first.load('store', 0);
      // Two pages in the memory, in the graph; then a third, which moves them out of it.
      for (const [start, end] of [
        [0, 2 * 4_096],
        [2 * 4_096, COUNT],
      ] as const) {
        for (let slot = start; slot < end; slot++) {
          arena.set(slot, vectors[slot]!);
          first.ensure(slot);
          first.replace(slot);
        }
        first.schedule();
        await first.whenIndexed();
        expect(first.lastError).toBeUndefined();
      }

      // The arena's pages were copied out of the memory.
      const [page] = arena.graphPages().pages;
      expect(page?.buffer).not.toBe(memory.buffer);
      // Another arena reuses the freed blocks, with other codes.
      const other = new VectorArena(DIMENSION, undefined, undefined, memory);
      for (const [slot, vector] of unitVectors(2 * 4_096, 12).entries()) other.set(slot, vector);
      expect(other.graphPages().pages[0]?.buffer).toBe(memory.buffer);

      const expectFound = (maintainer: GraphMaintainer) => {
        for (let slot = 0; slot < COUNT; slot += 97)
          expect(maintainer.search(vectors[slot]!, 1, 1, () => true)).toEqual([slot]);
      };
      expectFound(first);

      await first.save();
      await first.close(false);
      const second = await open();
      expect(await second.load('store', COUNT)).toBe(COUNT);
      expect(second.tail.size).toBe(0);
      expectFound(second);
    });
});
