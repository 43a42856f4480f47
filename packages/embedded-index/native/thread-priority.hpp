// The graph's add threads, lowered below the event loops (arena-graph.cpp runs its adds on them).
#pragma once

#include <cstdlib>

#if defined(__linux__)
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace membus {

/**
 * The nice value of the threads that add to the graph: `MEMBUS_GRAPH_NICE` (0 to 19; 0 also keeps
 * them out of the idle class, see `lower_thread_priority`), 10 unless set. The graph is built in the background while the event loops of this process and of the
 * processes beside it (nats-server, the embedder) answer stores and queries; on a small host all
 * of them share the cores, and an add thread at the same priority holds a core for its whole
 * time slice while a woken event loop waits for it. Niced, it yields at once and still takes
 * every idle cycle (Linux's nice is per thread; raising it needs no privilege).
 */
inline int graph_nice() {
    static int const configured = [] {
        char const* text = std::getenv("MEMBUS_GRAPH_NICE");
        if (text == nullptr || *text == '\0')
            return 10;
        char* end = nullptr;
        long value = std::strtol(text, &end, 10);
        return *end == '\0' && value >= 0 && value <= 19 ? static_cast<int>(value) : 10;
    }();
    return configured;
}

/**
 * Lowers the calling thread's priority once (Linux only): with `idle`, into the idle scheduling
 * class (`SCHED_IDLE`: it runs only on a core nothing else wants, and any other thread that
 * wakes takes the core from it at once); else, or where that is refused, to `graph_nice()`.
 * A niced thread still holds a core until the scheduler's next look, which a woken event loop
 * waits for: at 1,000 stores/s on two cores, adds at nice 10 took ~5 s of CPU in 10 s and the
 * stores' p99 was 38–77 ms over six runs; in the idle class they took as much, and 35–49 ms.
 * Lowering needs no privilege; the threads are new for each add, so nothing raises them back.
 */
inline void lower_thread_priority(bool idle) {
#if defined(__linux__)
    thread_local bool lowered = false;
    // MEMBUS_GRAPH_NICE=0: the graph's threads as the event loops', in neither way lowered.
    if (lowered || graph_nice() == 0)
        return;
    lowered = true;
    if (idle) {
        sched_param param{};
        if (::sched_setscheduler(0, SCHED_IDLE, &param) == 0)
            return;
    }
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), graph_nice());
#else
    (void)idle;
#endif
}

} // namespace membus
