// Native CPU kernel for the independent cascade: one breadth-first search per run, runs spread
// over OpenMP threads, live out-edges found by geometric skipping over probability-sorted rows
// (the same method as the torch path in ic.py). Plain C ABI, loaded with ctypes.
//
// Randomness: run r draws from its own splitmix64 stream seeded by (key, run_offset + r), so the
// outcome of a run does not depend on which thread runs it or on how runs are chunked.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "native_hash.h"

namespace {

using ig::hash_uniform;
using Rng = ig::Xoshiro256ss;

// One record per out-edge, rows sorted by probability (largest first): the three fields a
// landing reads sit in one cache line.
struct Edge {
    float prob;
    float inv_rate;  // -1 / log(1 - prob); 0 for prob = 1, huge for prob = 0
    int32_t dst;
};
static_assert(sizeof(Edge) == 12, "Edge must be packed as three 4-byte fields");

// How many queue slots ahead of the node being expanded the breadth-first search prefetches the
// start of a row. The rows are visited in queue order, so this hides the cache miss on each row's
// first records: measured on BA 100k (m = 5, weighted cascade, 1e6 arcs), it doubles the runs/s
// of the skip sampler (benchmarks/RESULTS.md, issue 10). Distances 3-4 were best there.
constexpr int64_t kPrefetchDistance = 4;

// Ask the cache for the first records of row v of a CSR graph with per-arc col / prob arrays.
inline void prefetch_csr_row(const int64_t* rowptr, const int32_t* col, const float* prob,
                             int64_t v) {
    __builtin_prefetch(&col[rowptr[v]]);
    __builtin_prefetch(&prob[rowptr[v]]);
}

// The part both samplers share: runs spread over threads, one breadth-first search per run with
// per-thread visit stamps and queue, seeds counted as active, optional provenance and per-node
// counts. `make_expander(run)` returns a callable `expand(u, visit)` that calls `visit(v)` for
// every live out-edge (u, v) of the run; `prefetch(v)` asks the cache for the first records of
// the row of v (a hint only: it changes no result).
template <class MakeExpander, class Prefetch>
int run_ic(int64_t n, const int64_t* seeds, int64_t num_seeds, int64_t num_runs, int num_threads,
           int64_t* spreads, int64_t* node_count, int32_t* step, int64_t* parent,
           MakeExpander make_expander, Prefetch prefetch) {
#ifdef _OPENMP
    if (num_threads < 1) num_threads = 1;
#else
    num_threads = 1;
#endif
    std::vector<std::vector<int64_t>> counts(node_count ? num_threads : 0);
#pragma omp parallel num_threads(num_threads)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        std::vector<uint32_t> stamp(n, 0);
        std::vector<int32_t> queue(n);
        std::vector<int32_t> depth(step ? n : 0);
        int64_t* my_count = nullptr;
        if (node_count) {
            counts[tid].assign(n, 0);
            my_count = counts[tid].data();
        }
#pragma omp for schedule(dynamic, 4)
        for (int64_t r = 0; r < num_runs; ++r) {
            const uint32_t mark = static_cast<uint32_t>(r + 1);
            int32_t* run_step = step ? step + r * n : nullptr;
            int64_t* run_parent = parent ? parent + r * n : nullptr;
            if (run_step)
                for (int64_t v = 0; v < n; ++v) run_step[v] = -1;
            if (run_parent)
                for (int64_t v = 0; v < n; ++v) run_parent[v] = -1;
            int64_t head = 0, tail = 0;
            for (int64_t i = 0; i < num_seeds; ++i) {
                const int64_t s = seeds[i];
                if (stamp[s] == mark) continue;
                stamp[s] = mark;
                queue[tail++] = static_cast<int32_t>(s);
                if (run_step) { run_step[s] = 0; depth[s] = 0; }
            }
            auto expand = make_expander(r);
            while (head < tail) {
                if (head + kPrefetchDistance < tail) prefetch(queue[head + kPrefetchDistance]);
                const int32_t u = queue[head++];
                expand(u, [&](int32_t v) {
                    if (stamp[v] == mark) return;
                    stamp[v] = mark;
                    queue[tail++] = v;
                    if (run_step) {
                        depth[v] = depth[u] + 1;
                        run_step[v] = depth[v];
                    }
                    if (run_parent) run_parent[v] = u;
                });
            }
            spreads[r] = tail;
            if (my_count)
                for (int64_t i = 0; i < tail; ++i) ++my_count[queue[i]];
        }
    }
    if (node_count)
        for (auto& c : counts)
            for (int64_t v = 0; v < n; ++v) node_count[v] += c[v];
    return 0;
}

}  // namespace

extern "C" {

// Geometric skipping: `num_runs` IC runs from one seed set.
//   rowptr [n+1] (int64), edges [E] packed Edge records (rows sorted by prob, descending)
//   seeds [num_seeds] (int64)
// Outputs: spreads [num_runs] (int64); node_count [n] (int64, added to, may be null);
//   step [num_runs * n] (int32, -1 never, may be null); parent [num_runs * n] (int64, may be null).
// Returns 0 on success.
int ic_skip_runs(int64_t n, const int64_t* rowptr, const Edge* edges, const int64_t* seeds,
                 int64_t num_seeds, int64_t num_runs, int64_t run_offset, uint64_t key,
                 int num_threads, int64_t* spreads, int64_t* node_count, int32_t* step,
                 int64_t* parent) {
    return run_ic(n, seeds, num_seeds, num_runs, num_threads, spreads, node_count, step, parent,
                  [=](int64_t r) {
                      const uint64_t seed =
                          key ^ (0xD1B54A32D192ED03ULL * static_cast<uint64_t>(run_offset + r + 1));
                      return [rng = Rng(seed), rowptr, edges](int32_t u, auto&& visit) mutable {
                          int64_t pos = rowptr[u];
                          const int64_t end = rowptr[u + 1];
                          while (pos < end) {
                              const float p0 = edges[pos].prob;
                              if (!(p0 > 0.0f)) break;  // sorted descending: the rest are 0
                              if (p0 < 1.0f) {
                                  // Exp(1) * inv_rate, floored: Geometric(p0) edges to skip
                                  const float skip = std::floor(-std::log(rng.uniform_open0()) *
                                                                edges[pos].inv_rate);
                                  if (skip >= static_cast<float>(end - pos)) break;
                                  const int64_t j = pos + static_cast<int64_t>(skip);
                                  if (rng.uniform() * p0 >= edges[j].prob) {  // thinned
                                      pos = j + 1;
                                      continue;
                                  }
                                  pos = j;
                              }
                              visit(edges[pos].dst);
                              ++pos;
                          }
                      };
                  },
                  [=](int32_t v) { __builtin_prefetch(&edges[rowptr[v]]); });
}

// The same runs with one counter-based coin per out-edge: edge e (CSR order) is live in run r
// iff hash_uniform(key, run_offset + r, e) < prob[e]. Every set simulated with the same key and
// run indices sees the same live-edge worlds (common random numbers for greedy / CELF).
//   rowptr [n+1] (int64), col [E] (int32), prob [E] (float32), CSR order.
int ic_hash_runs(int64_t n, const int64_t* rowptr, const int32_t* col, const float* prob,
                 const int64_t* seeds, int64_t num_seeds, int64_t num_runs, int64_t run_offset,
                 uint64_t key, int num_threads, int64_t* spreads, int64_t* node_count,
                 int32_t* step, int64_t* parent) {
    return run_ic(n, seeds, num_seeds, num_runs, num_threads, spreads, node_count, step, parent,
                  [=](int64_t r) {
                      const uint64_t run = static_cast<uint64_t>(run_offset + r);
                      return [=](int32_t u, auto&& visit) {
                          for (int64_t e = rowptr[u]; e < rowptr[u + 1]; ++e)
                              if (hash_uniform(key, run, static_cast<uint64_t>(e)) < prob[e])
                                  visit(col[e]);
                      };
                  },
                  [=](int32_t v) { prefetch_csr_row(rowptr, col, prob, v); });
}

// Competitive IC (paper B): number of F-active nodes for every (truth set, world) pair, with
// the same hash coins as the torch path (edge e live in world r iff hash_uniform(key, r, e) <
// prob[e]). Level-synchronous: the F frontier of a level expands before the T frontier, so a
// node reached by both colours in the same step becomes F.
//   false_seeds [num_false]; truth set s = true_cat[true_ptr[s] .. true_ptr[s + 1]] (disjoint from
//   the false seeds); out [num_sets * num_runs] (int64), set-major.
int competitive_false_counts(int64_t n, const int64_t* rowptr, const int32_t* col,
                             const float* prob, const int64_t* false_seeds, int64_t num_false,
                             const int64_t* true_cat, const int64_t* true_ptr, int64_t num_sets,
                             int64_t num_runs, uint64_t key, int num_threads, int64_t* out) {
#ifdef _OPENMP
    if (num_threads < 1) num_threads = 1;
#else
    num_threads = 1;
#endif
    const int64_t total = num_sets * num_runs;
#pragma omp parallel num_threads(num_threads)
    {
        std::vector<uint32_t> stamp(n, 0);
        std::vector<int32_t> cur_f, cur_t, next_f, next_t;
        cur_f.reserve(n); cur_t.reserve(n); next_f.reserve(n); next_t.reserve(n);
        // one level of a colour: every live out-edge of `cur` to a node no colour holds yet claims
        // it for `next`; the row of the node kPrefetchDistance places ahead is prefetched
        auto expand_level = [&](const std::vector<int32_t>& cur, std::vector<int32_t>& next,
                                uint32_t mark, uint64_t world) {
            for (size_t i = 0; i < cur.size(); ++i) {
                if (i + kPrefetchDistance < cur.size())
                    prefetch_csr_row(rowptr, col, prob, cur[i + kPrefetchDistance]);
                const int32_t u = cur[i];
                for (int64_t e = rowptr[u]; e < rowptr[u + 1]; ++e) {
                    const int32_t v = col[e];
                    if (stamp[v] == mark) continue;
                    if (!(hash_uniform(key, world, static_cast<uint64_t>(e)) < prob[e])) continue;
                    stamp[v] = mark;
                    next.push_back(v);
                }
            }
        };
#pragma omp for schedule(dynamic, 8)
        for (int64_t job = 0; job < total; ++job) {
            const int64_t set = job / num_runs;
            const uint64_t world = static_cast<uint64_t>(job % num_runs);
            const uint32_t mark = static_cast<uint32_t>(job + 1);
            cur_f.clear(); cur_t.clear();
            int64_t false_count = 0;
            for (int64_t i = 0; i < num_false; ++i) {
                const int64_t v = false_seeds[i];
                if (stamp[v] == mark) continue;
                stamp[v] = mark;
                cur_f.push_back(static_cast<int32_t>(v));
                ++false_count;
            }
            for (int64_t i = true_ptr[set]; i < true_ptr[set + 1]; ++i) {
                const int64_t v = true_cat[i];
                if (stamp[v] == mark) continue;
                stamp[v] = mark;
                cur_t.push_back(static_cast<int32_t>(v));
            }
            while (!cur_f.empty() || !cur_t.empty()) {
                next_f.clear(); next_t.clear();
                expand_level(cur_f, next_f, mark, world);  // F first: F wins a tie
                expand_level(cur_t, next_t, mark, world);
                false_count += static_cast<int64_t>(next_f.size());
                std::swap(cur_f, next_f);
                std::swap(cur_t, next_t);
            }
            out[job] = false_count;
        }
    }
    return 0;
}

}  // extern "C"
