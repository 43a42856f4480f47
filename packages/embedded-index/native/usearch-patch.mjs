// usearch's headers with one fix, for the graph addon: concurrent adds strand nodes that no search
// reaches (unum-cloud/USearch#735, open in 2.26.2; the approach of the fix proposed upstream in
// PR #772). `index_gt::add` linked a new node level by level, each level's reverse links right
// after its own links: a node already reachable at level l while its level l-1 list was still
// empty could be the seed of a concurrent add's descent, which then linked to it alone and was
// pruned away, for good. Here every level's own links are formed first, and only then the
// reverse links that make the node reachable.
//
// The headers are copied (index_dense.hpp includes "index.hpp" beside itself) and the block
// replaced; when usearch's block is not found exactly once — a new usearch, with the fix or
// not — the build stops here: drop this patch once usearch has the fix, else re-apply it.
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

/**
 * Writes usearch's headers (`<usearchRoot>/include/usearch/*`) to `<outDir>/usearch/`, index.hpp
 * patched; throws when the block to replace is not there exactly once.
 */
export function writePatchedUsearchHeaders(usearchRoot, outDir) {
  const source = join(usearchRoot, 'include', 'usearch');
  const target = join(outDir, 'usearch');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(source)) copyFileSync(join(source, name), join(target, name));
  const header = readFileSync(join(source, 'index.hpp'), 'utf8');
  const found = header.split(ORIGINAL).length - 1;
  const versionAt = header.indexOf(VERSION_LINE);
  if (found !== 1 || versionAt < 0)
    throw new Error(
      `usearch's index_gt::add is not the one native/usearch-patch.mjs patches (${found} matches): ` +
        'if this usearch has the fix for unum-cloud/USearch#735, drop the patch; else re-apply it',
    );
  const lineEnd = header.indexOf('\n', versionAt) + 1;
  const patched =
    header.slice(0, lineEnd) +
    `${MARKER}\n` +
    header.slice(lineEnd).replace(ORIGINAL, () => PATCHED);
  writeFileSync(join(target, 'index.hpp'), patched);
}
