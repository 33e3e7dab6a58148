// Native CPU kernel for the temporal independent cascade (ICT; influence_gpu/diffusion/temporal.py).
// Plain C ABI, loaded with ctypes.
//
// One earliest-arrival search per run, runs spread over OpenMP threads. Times are ranks among the
// distinct contact times (and start_time), as in the torch path. A run is Dijkstra over the
// live arcs with an indexed binary heap keyed by the arrival rank: a settled node u with rank
// tau_u offers each out-neighbour v the first contact rank >= tau_u (> with strict) of the arc,
// found by binary search in the arc's sorted contact ranks. The arc map is monotone and never
// lowers a time (FIFO), so a node's rank is final when it leaves the heap, and the settled ranks
// are the least solution of tau_v = min over live (u, v) of f_e(tau_u) -- the earliest arrival
// the torch relaxation converges to. The spread is the number of settled nodes.
//
// Coins: arc e is live in run r iff hash_uniform(key, run_offset + r, e) < prob[e] (the float32
// coin compared with the float32 probability, exactly as the torch path compares them after
// widening both to float64), or, with injected coins, iff uniforms[r * E + e] < prob[e] in
// float64. A run's outcome does not depend on the thread that runs it or on the chunking.
#include <algorithm>
#include <cstdint>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "native_hash.h"

namespace {

using ig::hash_uniform;

// First element >= x of the sorted c[0 .. len), or null: std::lower_bound without branches in
// the loop (conditional moves), as the comparisons are unpredictable.
inline const int32_t* first_at_least(const int32_t* c, int64_t len, int64_t x) {
    if (len <= 0) return nullptr;
    const int32_t* const end = c + len;
    // invariant: the answer lies in [c, c + len]
    while (len > 1) {
        const int64_t half = len >> 1;
        c = c[half] < x ? c + half : c;
        len -= half;
    }
    c += *c < x;
    return c == end ? nullptr : c;
}

// Per-thread state of one earliest-arrival search: visit stamps (no clearing between runs), the
// arrival rank of every touched node, an indexed binary min-heap over ranks and the settled nodes.
struct Search {
    std::vector<uint32_t> stamp;
    std::vector<int64_t> tau;
    std::vector<int32_t> pos;  // heap index; -1: settled (only valid where stamp == mark)
    std::vector<int32_t> heap;
    std::vector<int32_t> settled;
    uint32_t mark = 0;

    explicit Search(int64_t n) : stamp(n, 0), tau(n), pos(n) {
        heap.reserve(n);
        settled.reserve(n);
    }

    void begin() {
        if (++mark == 0) {
            std::fill(stamp.begin(), stamp.end(), 0u);
            mark = 1;
        }
        heap.clear();
        settled.clear();
    }

    void up(int32_t i) {
        const int32_t v = heap[i];
        const int64_t k = tau[v];
        while (i > 0) {
            const int32_t p = (i - 1) >> 1;
            const int32_t w = heap[p];
            if (tau[w] <= k) break;
            heap[i] = w;
            pos[w] = i;
            i = p;
        }
        heap[i] = v;
        pos[v] = i;
    }

    void down(int32_t i) {
        const int32_t size = static_cast<int32_t>(heap.size());
        const int32_t v = heap[i];
        const int64_t k = tau[v];
        for (;;) {
            int32_t c = 2 * i + 1;
            if (c >= size) break;
            if (c + 1 < size && tau[heap[c + 1]] < tau[heap[c]]) ++c;
            const int32_t w = heap[c];
            if (tau[w] >= k) break;
            heap[i] = w;
            pos[w] = i;
            i = c;
        }
        heap[i] = v;
        pos[v] = i;
    }

    // Lower v's rank to k if that improves it (v not settled).
    inline void offer(int32_t v, int64_t k) {
        if (stamp[v] != mark) {
            stamp[v] = mark;
            tau[v] = k;
            heap.push_back(v);
            up(static_cast<int32_t>(heap.size()) - 1);
        } else if (k < tau[v]) {  // settled nodes have tau <= every later offer
            tau[v] = k;
            up(pos[v]);
        }
    }

    inline int32_t pop() {
        const int32_t v = heap[0];
        const int32_t last = heap.back();
        heap.pop_back();
        if (!heap.empty()) {
            heap[0] = last;
            pos[last] = 0;
            down(0);
        }
        pos[v] = -1;
        settled.push_back(v);
        return v;
    }
};

}  // namespace

extern "C" {

// Spreads of temporal IC runs for several seed sets (sets as virtual runs).
//   rowptr [n+1] (int64), col [E] (int32), prob [E] (float32), CSR order;
//   time_ptr [E+1] (int64), contact_rank [C] (int32, sorted inside each arc's slice; int32 keeps
//   the contact lists of a mid-size graph in L2, and the binary searches are the hot part);
//   start_rank: rank of start_time (seeds' arrival); strict: 1 for contacts > tau only;
//   set s = seed_cat[seed_ptr[s] .. seed_ptr[s + 1]] (repeats allowed, counted once);
//   job j = s * num_runs + r runs world run_offset + r (every set sees the same worlds);
//   uniforms: null (hash coins from key) or [num_runs, E] float64 injected coins, row r for run r.
// Outputs: spreads [num_sets * num_runs] (int64, set-major); node_count [n] (int64, added to,
// may be null): number of jobs in which each node is active.
// Returns 0 on success, 1 on bad sizes.
int temporal_ic_runs(int64_t n, int64_t num_edges, const int64_t* rowptr, const int32_t* col,
                     const float* prob, const int64_t* time_ptr, const int32_t* contact_rank,
                     int64_t start_rank, int strict, const int64_t* seed_cat,
                     const int64_t* seed_ptr, int64_t num_sets, int64_t num_runs,
                     int64_t run_offset, uint64_t key, const double* uniforms, int num_threads,
                     int64_t* spreads, int64_t* node_count) {
    if (n < 0 || n >= (int64_t{1} << 31) || num_sets < 0 || num_runs < 0) return 1;
#ifdef _OPENMP
    if (num_threads < 1) num_threads = 1;
#else
    num_threads = 1;
#endif
    const int64_t total = num_sets * num_runs;
    if (total == 0) return 0;
    if (n == 0) {
        for (int64_t j = 0; j < total; ++j) spreads[j] = 0;
        return 0;
    }
    const int64_t step = strict ? 1 : 0;
    std::vector<std::vector<int64_t>> counts(node_count ? num_threads : 0);
#pragma omp parallel num_threads(num_threads)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        Search s(n);
        int64_t* my_count = nullptr;
        if (node_count) {
            counts[tid].assign(n, 0);
            my_count = counts[tid].data();
        }
#pragma omp for schedule(dynamic, 8)
        for (int64_t j = 0; j < total; ++j) {
            const int64_t set = j / num_runs;
            const int64_t r = j - set * num_runs;
            const uint64_t run = static_cast<uint64_t>(run_offset + r);
            const double* coins = uniforms ? uniforms + r * num_edges : nullptr;
            s.begin();
            for (int64_t i = seed_ptr[set]; i < seed_ptr[set + 1]; ++i)
                s.offer(static_cast<int32_t>(seed_cat[i]), start_rank);
            const uint32_t mark = s.mark;
            const uint32_t* const stamp = s.stamp.data();
            const int64_t* const tau = s.tau.data();
            while (!s.heap.empty()) {
                const int32_t u = s.pop();
                const int64_t bound = tau[u] + step;  // every offer from u is >= bound
                const int64_t e_end = rowptr[u + 1];
                for (int64_t e = rowptr[u]; e < e_end; ++e) {
                    // the coin first: most arcs are dead, a well-predicted branch (testing the
                    // target first costs a mispredicted branch on about every other arc)
                    const bool live =
                        coins ? coins[e] < static_cast<double>(prob[e])
                              : hash_uniform(key, run, static_cast<uint64_t>(e)) < prob[e];
                    if (!live) continue;
                    const int32_t v = col[e];
                    if (stamp[v] == mark && tau[v] <= bound) continue;  // cannot improve
                    const int32_t* it = first_at_least(contact_rank + time_ptr[e],
                                                       time_ptr[e + 1] - time_ptr[e], bound);
                    if (!it) continue;  // no usable contact: no try
                    s.offer(v, *it);
                }
            }
            spreads[j] = static_cast<int64_t>(s.settled.size());
            if (my_count)
                for (const int32_t v : s.settled) ++my_count[v];
        }
    }
    if (node_count)
        for (auto& c : counts)
            for (int64_t v = 0; v < n; ++v) node_count[v] += c[v];
    return 0;
}

}  // extern "C"
