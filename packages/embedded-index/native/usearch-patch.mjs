// usearch's headers with one fix, for the graph addon: concurrent adds strand nodes that no search
// reaches (unum-cloud/USearch#735, open in 2.26.2; the approach of the fix proposed upstream in
// PR #772). `index_gt::add` linked a new node level by level, each level's reverse links right
// after its own links: a node already reachable at level l while its level l-1 list was still
// empty could be the seed of a concurrent add's descent, which then linked to it alone and was
// pruned away, for good. Here every level's own links are formed first, and only then the
// reverse links that make the node reachable.
//
// And one for speed: usearch's tape arenas (the graph's nodes and links: ~660 B a memory, 6.6 GB
// at 10M, read at random by every search and add) are anonymous mmaps; on a host whose
// transparent huge pages are `madvise` (Debian's default) they got none. They are asked for here
// (`madvise(MADV_HUGEPAGE)`): the 10M build ran 14 % faster with huge pages (decision 002).
//
// The headers are copied (index_dense.hpp includes "index.hpp" beside itself) and the blocks
// replaced; when a block is not found exactly once — a new usearch, with the fix or not — the
// build stops here: drop that part of the patch once usearch has it, else re-apply it.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ORIGINAL = `        // From \`new_target_level\` down - perform proper extensive search
        for (level_t level = (std::min)(new_target_level, max_level_copy); level >= 0; --level) {
            // TODO: Handle out of memory conditions
            search_to_insert_(value, metric, prefetch, closest_slot, level, config.expansion, context);
            candidates_view_t closest_view;
            {
                node_lock_t new_lock = node_lock_(new_slot);
                neighbors_(new_node, level).clear();
                closest_view = form_links_to_closest_(metric, new_slot, level, context);
                closest_slot = closest_view[0].slot;
            }
            form_reverse_links_(metric, new_slot, closest_view, value, level, context);
        }
`;

const PATCHED = `        // membus (unum-cloud/USearch#735): from \`new_target_level\` down, the node's own links at
        // every level first, while no other node links to it (nothing can reach it yet); then the
        // reverse links, top level first, each of which finds every lower level already linked.
        level_t const top_level = (std::min)(new_target_level, max_level_copy);
        std::vector<candidate_t> linked;
        std::vector<std::size_t> linked_ends;
        try {
            linked.reserve(static_cast<std::size_t>(top_level + 1) * (connectivity_max + 1));
            linked_ends.reserve(static_cast<std::size_t>(top_level + 1));
        } catch (...) {
            return result.failed("Out of memory!");
        }
        for (level_t level = top_level; level >= 0; --level) {
            search_to_insert_(value, metric, prefetch, closest_slot, level, config.expansion, context);
            node_lock_t new_lock = node_lock_(new_slot);
            neighbors_(new_node, level).clear();
            candidates_view_t closest_view = form_links_to_closest_(metric, new_slot, level, context);
            closest_slot = closest_view[0].slot;
            for (candidate_t const& candidate : closest_view)
                linked.push_back(candidate);
            linked_ends.push_back(linked.size());
        }
        std::size_t linked_begin = 0;
        for (level_t level = top_level; level >= 0; --level) {
            std::size_t linked_end = linked_ends[static_cast<std::size_t>(top_level - level)];
            candidates_view_t closest_view{linked.data() + linked_begin, linked_end - linked_begin};
            form_reverse_links_(metric, new_slot, closest_view, value, level, context);
            linked_begin = linked_end;
        }
`;

const VERSION_LINE = '#define USEARCH_VERSION_PATCH ';
/** Defined by the patched index.hpp: the addon allows concurrent adds only when it is. */
const MARKER = '#define MEMBUS_USEARCH_ADD_FIX_735 1';

const MMAP_ORIGINAL = `        auto* result = mmap(NULL, count_bytes, PROT_WRITE | PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return (result == MAP_FAILED) ? nullptr : (byte_t*)result;
`;

const MMAP_PATCHED = `        auto* result = mmap(NULL, count_bytes, PROT_WRITE | PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (result == MAP_FAILED)
            return nullptr;
#if defined(MADV_HUGEPAGE)
        // membus: huge pages for the tape arenas where the host leaves them to madvise; a
        // refusal (no THP in this kernel) changes nothing.
        (void)madvise(result, count_bytes, MADV_HUGEPAGE);
#endif
        return (byte_t*)result;
`;

/** Replaces `original` (which must stand exactly once in `text`) with `patched`. */
function replaceOnce(text, original, patched, file, what) {
  const found = text.split(original).length - 1;
  if (found !== 1)
    throw new Error(
      `usearch's ${what} in ${file} is not the one native/usearch-patch.mjs patches (${found} matches): ` +
        'if this usearch already does it, drop that part of the patch; else re-apply it',
    );
  return text.replace(original, () => patched);
}

/**
 * Writes usearch's headers (`<usearchRoot>/include/usearch/*`) to `<outDir>/usearch/`, index.hpp
 * and index_plugins.hpp patched; throws when a block to replace is not there exactly once.
 */
export function writePatchedUsearchHeaders(usearchRoot, outDir) {
  const source = join(usearchRoot, 'include', 'usearch');
  const target = join(outDir, 'usearch');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(source)) copyFileSync(join(source, name), join(target, name));
  const header = readFileSync(join(source, 'index.hpp'), 'utf8');
  const versionAt = header.indexOf(VERSION_LINE);
  if (versionAt < 0) throw new Error(`usearch's index.hpp has no line ${VERSION_LINE.trim()}`);
  const lineEnd = header.indexOf('\n', versionAt) + 1;
  const patched =
    header.slice(0, lineEnd) +
    `${MARKER}\n` +
    replaceOnce(header.slice(lineEnd), ORIGINAL, PATCHED, 'index.hpp', 'index_gt::add');
  writeFileSync(join(target, 'index.hpp'), patched);
  const plugins = readFileSync(join(source, 'index_plugins.hpp'), 'utf8');
  writeFileSync(
    join(target, 'index_plugins.hpp'),
    replaceOnce(
      plugins,
      MMAP_ORIGINAL,
      MMAP_PATCHED,
      'index_plugins.hpp',
      'page_allocator_t::allocate',
    ),
  );
}
