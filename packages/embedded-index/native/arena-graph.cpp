/**
 * usearch's HNSW graph over int8 codes that stay where the embedded index keeps them: the
 * arena's pages (vector-arena.ts). usearch's own JavaScript binding copies every vector it is
 * given (the graph then held a second copy of the arena's codes: 384 MB of 2.1 GB at 1M
 * memories of 384 dimensions). Here a node's vector is a pointer into the arena's page for its
 * key (the slot): `add` passes usearch `copy_vector = false`, and `load` points every node back
 * into the pages once usearch has read the file. The file format is usearch's own (the codes
 * are written from the pages), so graph-file.ts still checks a saved graph's codes against the
 * arena's.
 *
 * The arena's pages must outlive the graph and keep their codes while a node points at them;
 * `setPages` is called with the current pages before every use, and where a page has moved
 * (a WebAssembly memory that grew elsewhere, pages copied out of it) every node of it is
 * pointed at its new place. Removed nodes keep pointing at their slot (usearch still walks
 * them); the ones a loaded file holds get a copy of their codes here.
 *
 * Only the setters below reach into index_dense_gt's private members (its vector pointers and
 * tape allocator); everything else is usearch's public API, as in its binding (lib.cpp). The add
 * threads' priority is in thread-priority.hpp, the paced graph file in paced-file.hpp. Over 400
 * lines on purpose: one N-API class, its methods and the workers that run them off the event
 * loop, which share its private state.
 */
#include <algorithm>
#include <atomic>
#include <bitset>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <float.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// Before `#define private public` below, as every system header is.
#include "paced-file.hpp"
#include "thread-priority.hpp"

#define NAPI_CPP_EXCEPTIONS
#include <napi.h>
#include <node_api.h>

#include <numkong/numkong.h>

// index_dense_gt keeps the vector pointers and the tape that `load` copies vectors to private;
// every system header it includes is included above, so only usearch's own classes change.
#define private public
#include <usearch/index_dense.hpp>
#undef private

// Defined by usearch's index.hpp as native/build.mjs patches it (native/usearch-patch.mjs):
// concurrent adds no longer strand nodes (unum-cloud/USearch#735). Without it, one thread.
#ifdef MEMBUS_USEARCH_ADD_FIX_735
constexpr bool concurrent_adds_k = true;
#else
constexpr bool concurrent_adds_k = false;
#endif

using namespace unum::usearch;
using namespace unum;
using membus::lower_thread_priority;
using membus::paced_file_t;

using index_error_t = usearch::error_t;
using add_result_t = typename index_dense_t::add_result_t;
using search_result_t = typename index_dense_t::search_result_t;
using state_result_t = typename index_dense_t::state_result_t;
using key_t_ = index_dense_t::vector_key_t;

namespace {

std::size_t size_argument(Napi::Value value) {
    return static_cast<std::size_t>(value.As<Napi::Number>().DoubleValue());
}

/** Throws `error_at` (Napi::TypeError, RangeError or Error) with `message` into JavaScript. */
template <typename error_at> void raise(Napi::Env env, char const* message) {
    error_at::New(env, message).ThrowAsJavaScriptException();
}

/** Whether `value` is a BigUint64Array (the keys), else throws a TypeError naming `call`. */
bool is_keys(Napi::Env env, Napi::Value value, char const* call) {
    if (value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_biguint64_array)
        return true;
    std::string message = std::string(call) + " expects keys as a BigUint64Array";
    raise<Napi::TypeError>(env, message.c_str());
    return false;
}

} // namespace

class ArenaGraph : public Napi::ObjectWrap<ArenaGraph> {
  public:
    static Napi::Object Init(Napi::Env env, Napi::Object exports);
    ArenaGraph(Napi::CallbackInfo const& ctx);

  private:
    Napi::Value GetDimensions(Napi::CallbackInfo const& ctx);
    Napi::Value GetSize(Napi::CallbackInfo const& ctx);
    Napi::Value GetCapacity(Napi::CallbackInfo const& ctx);
    Napi::Value GetConnectivity(Napi::CallbackInfo const& ctx);
    Napi::Value GetMemoryUsage(Napi::CallbackInfo const& ctx);
    void SetPages(Napi::CallbackInfo const& ctx);
    void AddSlots(Napi::CallbackInfo const& ctx);
    Napi::Value AddSlotsAsync(Napi::CallbackInfo const& ctx);
    Napi::Value SaveAsync(Napi::CallbackInfo const& ctx);
    Napi::Value IsAdding(Napi::CallbackInfo const& ctx);
    /** Throws (and returns true) while an asynchronous add runs: `call` would race with it. */
    bool busy(Napi::Env env, char const* call);
    /** The keys' codes, checked against the pages and with room reserved; false: thrown. */
    bool prepare(Napi::Env env, Napi::BigUint64Array keys, std::size_t threads,
                 std::vector<std::pair<key_t_, i8_t const*>>& items);
    Napi::Value Search(Napi::CallbackInfo const& ctx);
    Napi::Value Remove(Napi::CallbackInfo const& ctx);
    Napi::Value Contains(Napi::CallbackInfo const& ctx);
    void Save(Napi::CallbackInfo const& ctx);
    void Load(Napi::CallbackInfo const& ctx);

    /** The codes of `key` in the pages, or nullptr when the key is past them. */
    byte_t* codes_of(key_t_ key) const noexcept {
        std::size_t page = static_cast<std::size_t>(key / page_slots_);
        if (page_slots_ == 0 || page >= pages_.size())
            return nullptr;
        return pages_[page] + static_cast<std::size_t>(key % page_slots_) * dimensions_;
    }
    /** Points every live node whose page is marked in `moved` (all when empty) at its codes. */
    bool repoint(std::vector<bool> const& moved);

    std::unique_ptr<index_dense_t> native_;
    std::size_t dimensions_ = 0;
    std::size_t page_slots_ = 0;
    std::vector<byte_t*> pages_;
    /** Keeps the page views (and so their buffers) alive while nodes point into them. */
    std::vector<Napi::ObjectReference> page_refs_;
    /** Codes of the removed nodes a loaded file held (their slots' codes may have changed). */
    std::vector<byte_t> removed_codes_;
    /** Thread contexts reserved in usearch (an add's threads plus one for searches meanwhile). */
    std::size_t contexts_ = 0;
    /** An addSlotsAsync or saveAsync runs (searches may run beside it; nothing else may). */
    std::atomic<bool> adding_{false};

    friend class GraphWorker;
    friend class AddWorker;
    friend class SaveWorker;
};

/**
 * Runs `native.add` for every item with `threads` usearch threads (one where usearch's headers
 * lack the fix for concurrent adds); the first error, if any. On threads of their own, niced
 * (`lower_thread_priority`): not the libuv pool's, which other work shares.
 */
enum class add_priority_t { event_loop, low, idle };

std::string add_items(index_dense_t& native, std::vector<std::pair<key_t_, i8_t const*>> const& items,
                      std::size_t threads, add_priority_t priority = add_priority_t::event_loop);

std::string add_items_in_background(index_dense_t& native,
                                    std::vector<std::pair<key_t_, i8_t const*>> const& items,
                                    std::size_t threads, bool idle) {
    std::string error;
    add_priority_t const priority = idle ? add_priority_t::idle : add_priority_t::low;
    try {
        std::thread worker([&] {
            lower_thread_priority(idle);
            error = add_items(native, items, threads, priority);
        });
        worker.join();
    } catch (std::system_error const&) {
        // No thread to be had: add on this one.
        return add_items(native, items, threads);
    }
    return error;
}

std::string add_items(index_dense_t& native, std::vector<std::pair<key_t_, i8_t const*>> const& items,
                      std::size_t threads, add_priority_t priority) {
    if (!concurrent_adds_k)
        threads = 1;
    index_error_t first_error{};
    std::atomic<bool> failed{false};
    try {
        executor_default_t executor{threads};
        executor.fixed(items.size(), [&](std::size_t, std::size_t task) {
            // The executor's other threads are new each call; never the event loop's (`addSlots`).
            if (priority != add_priority_t::event_loop)
                lower_thread_priority(priority == add_priority_t::idle);
            if (failed.load())
                return;
            auto const& [key, codes] = items[task];
            add_result_t result = native.add(key, codes, index_dense_t::any_thread(), false);
            if (!result) {
                if (!failed.exchange(true))
                    first_error = std::move(result.error);
                else
                    result.error.release();
            }
        });
    } catch (...) {
        return "Insertion failed";
    }
    return failed ? std::string(first_error.release()) : std::string();
}

/** Saves the graph in usearch's format through a paced_file_t; the error, if any. */
std::string save_file(index_dense_t const& native, std::string const& path) {
    paced_file_t file(path);
    auto result = native.save_to_stream(
        [&](void const* data, std::size_t length) { return file.write(data, length); });
    if (!result) {
        std::string stream_error = result.error.release();
        return file.error().empty() ? stream_error : file.error();
    }
    return file.finish() ? std::string() : file.error();
}

/**
 * Work on the graph on a libuv thread, so the event loop goes on: settles a promise, and until
 * then keeps the graph's JavaScript object alive and its `adding_` flag set.
 */
class GraphWorker : public Napi::AsyncWorker {
  public:
    GraphWorker(Napi::Env env, ArenaGraph* graph)
        : Napi::AsyncWorker(env), graph_(graph), deferred_(Napi::Promise::Deferred::New(env)),
          keep_(Napi::Persistent(graph->Value())) {}

    Napi::Promise Promise() { return deferred_.Promise(); }

    void OnOK() override {
        graph_->adding_ = false;
        deferred_.Resolve(Env().Undefined());
    }

    void OnError(Napi::Error const& error) override {
        graph_->adding_ = false;
        deferred_.Reject(error.Value());
    }

  protected:
    ArenaGraph* graph_;

  private:
    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference keep_;
};

/** Adds keys with `threads` usearch threads. */
class AddWorker : public GraphWorker {
  public:
    AddWorker(Napi::Env env, ArenaGraph* graph, std::vector<std::pair<key_t_, i8_t const*>> items,
              std::size_t threads, bool idle)
        : GraphWorker(env, graph), items_(std::move(items)), threads_(threads), idle_(idle) {}

    void Execute() override {
        std::string error = add_items_in_background(*graph_->native_, items_, threads_, idle_);
        if (!error.empty())
            SetError(error);
    }

  private:
    std::vector<std::pair<key_t_, i8_t const*>> items_;
    std::size_t threads_;
    bool idle_;
};

/** Writes the graph's file (searches may run meanwhile, nothing else). */
class SaveWorker : public GraphWorker {
  public:
    SaveWorker(Napi::Env env, ArenaGraph* graph, std::string path)
        : GraphWorker(env, graph), path_(std::move(path)) {}

    void Execute() override {
        try {
            std::string error = save_file(*graph_->native_, path_);
            if (!error.empty())
                SetError(error);
        } catch (...) {
            SetError("Serialization failed");
        }
    }

  private:
    std::string path_;
};

Napi::Object ArenaGraph::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function func = DefineClass( //
        env, "ArenaGraph",
        {
            InstanceMethod("dimensions", &ArenaGraph::GetDimensions),
            InstanceMethod("size", &ArenaGraph::GetSize),
            InstanceMethod("capacity", &ArenaGraph::GetCapacity),
            InstanceMethod("connectivity", &ArenaGraph::GetConnectivity),
            InstanceMethod("memoryUsage", &ArenaGraph::GetMemoryUsage),
            InstanceMethod("setPages", &ArenaGraph::SetPages),
            InstanceMethod("addSlots", &ArenaGraph::AddSlots),
            InstanceMethod("addSlotsAsync", &ArenaGraph::AddSlotsAsync),
            InstanceMethod("isAdding", &ArenaGraph::IsAdding),
            InstanceMethod("saveAsync", &ArenaGraph::SaveAsync),
            InstanceMethod("search", &ArenaGraph::Search),
            InstanceMethod("remove", &ArenaGraph::Remove),
            InstanceMethod("contains", &ArenaGraph::Contains),
            InstanceMethod("save", &ArenaGraph::Save),
            InstanceMethod("load", &ArenaGraph::Load),
            StaticValue("concurrentAdds", Napi::Boolean::New(env, concurrent_adds_k)),
        });
    exports.Set("ArenaGraph", func);
    return exports;
}

// new ArenaGraph(dimensions, connectivity, expansionAdd, expansionSearch): cosine over int8.
ArenaGraph::ArenaGraph(Napi::CallbackInfo const& ctx) : Napi::ObjectWrap<ArenaGraph>(ctx) {
    Napi::Env env = ctx.Env();
    if (ctx.Length() != 4) {
        raise<Napi::TypeError>(env, "ArenaGraph expects dimensions, connectivity, expansionAdd, expansionSearch");
        return;
    }
    dimensions_ = size_argument(ctx[0]);
    metric_punned_t metric(dimensions_, metric_kind_t::cos_k, scalar_kind_t::i8_k);
    if (metric.missing()) {
        raise<Napi::TypeError>(env, "Failed to initialize the metric");
        return;
    }
    index_dense_config_t config(size_argument(ctx[1]), size_argument(ctx[2]), size_argument(ctx[3]));
    state_result_t result = index_dense_t::make(metric, config);
    if (!result) {
        raise<Napi::Error>(env, result.error.release());
        return;
    }
    native_.reset(new (std::nothrow) index_dense_t(std::move(result.index)));
    if (!native_)
        raise<Napi::Error>(env, "Out of memory");
}

Napi::Value ArenaGraph::GetDimensions(Napi::CallbackInfo const& ctx) {
    return Napi::Number::New(ctx.Env(), static_cast<double>(native_->dimensions()));
}
Napi::Value ArenaGraph::GetConnectivity(Napi::CallbackInfo const& ctx) {
    return Napi::Number::New(ctx.Env(), static_cast<double>(native_->connectivity()));
}
Napi::Value ArenaGraph::GetSize(Napi::CallbackInfo const& ctx) {
    return Napi::Number::New(ctx.Env(), static_cast<double>(native_->size()));
}
Napi::Value ArenaGraph::GetCapacity(Napi::CallbackInfo const& ctx) {
    return Napi::Number::New(ctx.Env(), static_cast<double>(native_->capacity()));
}
Napi::Value ArenaGraph::GetMemoryUsage(Napi::CallbackInfo const& ctx) {
    return Napi::Number::New(ctx.Env(), static_cast<double>(native_->memory_usage()));
}

bool ArenaGraph::repoint(std::vector<bool> const& moved) {
    auto& typed = *native_->typed_;
    key_t_ free_key = native_->free_key();
    std::size_t nodes = typed.size();
    for (std::size_t slot = 0; slot != nodes; ++slot) {
        key_t_ key = static_cast<key_t_>(typed.at(static_cast<index_dense_t::compressed_slot_t>(slot)).key);
        if (key == free_key)
            continue;
        std::size_t page = static_cast<std::size_t>(key / page_slots_);
        if (!moved.empty() && (page >= moved.size() || !moved[page]))
            continue;
        byte_t* codes = codes_of(key);
        if (codes == nullptr)
            return false;
        native_->vectors_lookup_[slot] = codes;
    }
    return true;
}

// Asks for transparent huge pages under a page of codes (every search and add reads codes at
// random: with 4 KiB pages most reads miss the TLB at 10M). The 4 KiB pages the range touches
// are advised, its ends rounded outwards: the arena's pages lie end to end in one memory, and a
// huge page needs 2 MiB all advised (the bytes around a page are the arena's own or its
// allocator's; the advice changes only how they are backed). A refusal (no THP in this kernel)
// changes nothing, so the result is not checked.
static void advise_huge_pages(byte_t* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    std::uintptr_t const page = 4096;
    std::uintptr_t begin = reinterpret_cast<std::uintptr_t>(data) & ~(page - 1);
    std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(data) + bytes + page - 1) & ~(page - 1);
    if (end > begin)
        (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
    (void)data, (void)bytes;
#endif
}

// setPages(pages: Int8Array[], pageSlots): the arena's code pages, page i holding slots
// [i · pageSlots, (i + 1) · pageSlots).
void ArenaGraph::SetPages(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();
    if (busy(env, "setPages"))
        return;
    if (ctx.Length() != 2 || !ctx[0].IsArray())
        return raise<Napi::TypeError>(env, "setPages expects pages (Int8Array[]) and pageSlots");
    Napi::Array list = ctx[0].As<Napi::Array>();
    std::size_t page_slots = size_argument(ctx[1]);
    if (page_slots == 0 || (page_slots_ != 0 && page_slots != page_slots_))
        return raise<Napi::RangeError>(env, "pageSlots must stay the same, above 0");
    std::size_t count = list.Length();
    if (count < pages_.size())
        return raise<Napi::RangeError>(env, "the arena's pages cannot shrink under the graph");
    std::vector<byte_t*> pages(count);
    std::vector<Napi::ObjectReference> refs(count);
    for (std::uint32_t i = 0; i != count; ++i) {
        Napi::Value value = list.Get(i);
        if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int8_array)
            return raise<Napi::TypeError>(env, "each page must be an Int8Array");
        Napi::Int8Array page = value.As<Napi::Int8Array>();
        if (page.ElementLength() < page_slots * dimensions_)
            return raise<Napi::RangeError>(env, "a page is shorter than pageSlots vectors");
        pages[i] = reinterpret_cast<byte_t*>(page.Data());
        refs[i] = Napi::Persistent(page.As<Napi::Object>());
    }
    std::vector<bool> moved(count, false);
    bool any_moved = false;
    for (std::size_t i = 0; i != pages_.size(); ++i)
        if (pages_[i] != pages[i])
            moved[i] = true, any_moved = true;
    for (std::size_t i = 0; i != count; ++i)
        if (i >= pages_.size() || moved[i])
            advise_huge_pages(pages[i], page_slots * dimensions_);
    page_slots_ = page_slots;
    pages_ = std::move(pages);
    page_refs_ = std::move(refs);
    if (any_moved && !repoint(moved))
        raise<Napi::Error>(env, "a graph key lies past the arena's pages");
}

bool ArenaGraph::busy(Napi::Env env, char const* call) {
    if (!adding_)
        return false;
    std::string message = std::string(call) + " while points are being added or the graph saved (await addSlotsAsync or saveAsync first)";
    raise<Napi::Error>(env, message.c_str());
    return true;
}

bool ArenaGraph::prepare(Napi::Env env, Napi::BigUint64Array keys, std::size_t threads,
                         std::vector<std::pair<key_t_, i8_t const*>>& items) {
    std::size_t tasks = keys.ElementLength();
    items.reserve(tasks);
    for (std::size_t i = 0; i != tasks; ++i) {
        key_t_ key = static_cast<key_t_>(keys[i]);
        byte_t* codes = codes_of(key);
        if (codes == nullptr) {
            raise<Napi::RangeError>(env, "a key lies past the arena's pages");
            return false;
        }
        items.emplace_back(key, reinterpret_cast<i8_t const*>(codes));
    }
    // One context per add thread and one for a search meanwhile; reserved here, on the event
    // loop's thread, never while an add or a search runs (usearch's rule for try_reserve).
    std::size_t contexts = threads + 1;
    if (native_->size() + tasks >= native_->capacity() || contexts > contexts_) {
        contexts = (std::max)(contexts, contexts_);
        std::size_t members = (std::max)(native_->capacity(), ceil2(native_->size() + tasks));
        if (!native_->try_reserve({members, contexts})) {
            raise<Napi::Error>(env, "Failed to reserve memory");
            return false;
        }
        contexts_ = contexts;
    }
    return true;
}

// addSlots(keys: BigUint64Array, threads): adds each key's codes from the pages, not copied.
void ArenaGraph::AddSlots(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();
    if (ctx.Length() != 2 || !is_keys(env, ctx[0], "addSlots") || busy(env, "addSlots"))
        return;
    std::size_t threads = (std::max)(std::size_t{1}, size_argument(ctx[1]));
    std::vector<std::pair<key_t_, i8_t const*>> items;
    if (!prepare(env, ctx[0].As<Napi::BigUint64Array>(), threads, items))
        return;
    std::string error = add_items(*native_, items, threads);
    if (!error.empty())
        raise<Napi::Error>(env, error.c_str());
}

// addSlotsAsync(keys, threads, { idlePriority }?): Promise; the same off the event loop, on
// threads of low priority (`lower_thread_priority`; in the idle class with `idlePriority`). Until
// it settles, the keys' codes must stay where they are and only `search` may be called.
Napi::Value ArenaGraph::AddSlotsAsync(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();
    // The options' sliceMs (the JavaScript fallback's slice) is ignored: this add leaves the loop.
    if (ctx.Length() < 2 || !is_keys(env, ctx[0], "addSlotsAsync") || busy(env, "addSlotsAsync"))
        return env.Null();
    bool idle = false;
    if (ctx.Length() >= 3 && ctx[2].IsObject()) {
        Napi::Value value = ctx[2].As<Napi::Object>().Get("idlePriority");
        idle = value.IsBoolean() && value.As<Napi::Boolean>().Value();
    }
    std::size_t threads = (std::max)(std::size_t{1}, size_argument(ctx[1]));
    std::vector<std::pair<key_t_, i8_t const*>> items;
    if (!prepare(env, ctx[0].As<Napi::BigUint64Array>(), threads, items))
        return env.Null();
    adding_ = true;
    auto* worker = new AddWorker(env, this, std::move(items), threads, idle);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
}

// saveAsync(path): Promise; the file written off the event loop. Until it settles only `search`
// may be called (adds, removals, loads and setPages throw), and the pages must keep their codes.
Napi::Value ArenaGraph::SaveAsync(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();
    if (ctx.Length() != 1 || !ctx[0].IsString()) {
        raise<Napi::TypeError>(env, "saveAsync expects a path");
        return env.Null();
    }
    if (busy(env, "saveAsync"))
        return env.Null();
    adding_ = true;
    auto* worker = new SaveWorker(env, this, ctx[0].As<Napi::String>());
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
}

Napi::Value ArenaGraph::IsAdding(Napi::CallbackInfo const& ctx) {
    return Napi::Boolean::New(ctx.Env(), adding_.load());
}

// search(query: Int8Array, k, threads) → [keys, distances, counts], one query.
Napi::Value ArenaGraph::Search(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();
    if (ctx.Length() != 3 || !ctx[0].IsTypedArray() ||
        ctx[0].As<Napi::TypedArray>().TypedArrayType() != napi_int8_array) {
        raise<Napi::TypeError>(env, "search expects query (Int8Array), k, threads");
        return env.Null();
    }
    Napi::Int8Array query = ctx[0].As<Napi::Int8Array>();
    if (query.ElementLength() != dimensions_) {
        raise<Napi::RangeError>(env, "the query's length is not the graph's dimension");
        return env.Null();
    }
    std::size_t wanted = size_argument(ctx[1]);
    Napi::BigUint64Array keys = Napi::BigUint64Array::New(env, wanted);
    Napi::Float32Array distances = Napi::Float32Array::New(env, wanted);
    Napi::BigUint64Array counts = Napi::BigUint64Array::New(env, 1);
    search_result_t result = native_->search(reinterpret_cast<i8_t const*>(query.Data()), wanted);
    if (!result) {
        raise<Napi::Error>(env, result.error.release());
        return env.Null();
    }
    counts[0] = result.dump_to(keys.Data(), distances.Data(), wanted);
    Napi::Array out = Napi::Array::New(env, 3);
    out.Set(0u, keys);
    out.Set(1u, distances);
    out.Set(2u, counts);
    return out;
}

Napi::Value ArenaGraph::Remove(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();
    if (!is_keys(env, ctx[0], "remove") || busy(env, "remove"))
        return env.Null();
    Napi::BigUint64Array keys = ctx[0].As<Napi::BigUint64Array>();
    std::size_t length = keys.ElementLength();
    Napi::Array results = Napi::Array::New(env, length);
    for (std::size_t i = 0; i < length; ++i) {
        auto result = native_->remove(static_cast<key_t_>(keys[i]));
        if (!result) {
            raise<Napi::Error>(env, result.error.release());
            return env.Null();
        }
        results[i] = Napi::Number::New(env, static_cast<double>(result.completed));
    }
    return results;
}

Napi::Value ArenaGraph::Contains(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();
    if (!is_keys(env, ctx[0], "contains"))
        return env.Null();
    Napi::BigUint64Array keys = ctx[0].As<Napi::BigUint64Array>();
    std::size_t length = keys.ElementLength();
    Napi::Array result = Napi::Array::New(env, length);
    for (std::size_t i = 0; i < length; ++i)
        result[i] = Napi::Boolean::New(env, native_->contains(static_cast<key_t_>(keys[i])));
    return result;
}

void ArenaGraph::Save(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();
    if (busy(env, "save"))
        return;
    std::string path = ctx[0].As<Napi::String>();
    std::string error = save_file(*native_, path);
    if (!error.empty())
        raise<Napi::Error>(env, error.c_str());
}

// load(path): usearch reads the file (its vectors into its tape), then every node is pointed at
// the pages (setPages first) and the tape is released.
void ArenaGraph::Load(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();
    if (busy(env, "load"))
        return;
    std::string path = ctx[0].As<Napi::String>();
    auto result = native_->load(path.c_str());
    if (!result)
        return raise<Napi::Error>(env, result.error.release());
    contexts_ = 0;
    if (!native_->try_reserve(ceil2(native_->size())))
        return raise<Napi::Error>(env, "Failed to reserve memory");
    auto& typed = *native_->typed_;
    key_t_ free_key = native_->free_key();
    std::size_t nodes = typed.size();
    std::size_t removed = 0;
    for (std::size_t slot = 0; slot != nodes; ++slot) {
        key_t_ key = static_cast<key_t_>(typed.at(static_cast<index_dense_t::compressed_slot_t>(slot)).key);
        if (key == free_key)
            ++removed;
        else if (codes_of(key) == nullptr)
            return raise<Napi::RangeError>(env, "the graph file holds a key past the arena's pages");
    }
    std::vector<byte_t> removed_codes(removed * dimensions_);
    std::size_t at = 0;
    for (std::size_t slot = 0; slot != nodes; ++slot) {
        key_t_ key = static_cast<key_t_>(typed.at(static_cast<index_dense_t::compressed_slot_t>(slot)).key);
        if (key != free_key)
            continue;
        byte_t* codes = removed_codes.data() + at * dimensions_;
        std::memcpy(codes, native_->vectors_lookup_[slot], dimensions_);
        native_->vectors_lookup_[slot] = codes;
        ++at;
    }
    removed_codes_ = std::move(removed_codes);
    if (!repoint({}))
        return raise<Napi::RangeError>(env, "the graph file holds a key past the arena's pages");
    native_->vectors_tape_allocator_.reset();
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return ArenaGraph::Init(env, exports); }

NODE_API_MODULE(arena_graph, InitAll)
