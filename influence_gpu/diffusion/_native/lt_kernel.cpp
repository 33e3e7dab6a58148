// Native CPU kernel for the linear threshold model and the minimum / multiplication threshold
// models (paper D): one level-synchronous run per (seed set, run) job, jobs spread over OpenMP
// threads. Plain C ABI, loaded with ctypes (influence_gpu/diffusion/_native/lt.py).
//
// Semantics are those of the torch path (influence_gpu/diffusion/lt.py, threshold.py), step for
// step:
//   * seeds are active at step 0; step t expands the nodes activated at step t - 1 (the level);
//   * LT: a node reached by the level adds the weights of its pushes to acc (kept across steps)
//     and, once the level is done, activates iff acc >= theta and acc > 0;
//   * minimum / multiplication: a node reached for the first time is tested once, when the level
//     is done, against the minimum of alpha_u * b(u, v) / the product of b(u, v) over the
//     level's pushes into it; it becomes active if the aggregate is >= theta, blocked otherwise.
// Thresholds are theta[r, v] = 1 - hash_uniform(key, run_offset + r, v) (the same hash as the
// torch path's draw_thresholds, evaluated lazily at a node's first touch), or injected.
//
// Bit-identity with torch. LT weights arrive quantised to multiples of 2^-52 (see
// _threshold_engine.lt_weights), so every partial sum of acc is an exact double and the outcome
// does not depend on the order of the additions. The minimum is exact. Products are rounded, so
// both paths multiply in one order: a level is sorted by node id and each node pushes its
// out-edges in CSR order, so the pushes into v arrive by increasing (source, edge id), as in the
// torch path's sequential scatter_reduce over its sorted frontier.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "native_hash.h"

namespace {

using ig::hash_uniform;

enum Mode { LT = 0, MINIMUM = 1, PRODUCT = 2 };
enum State : uint32_t { TOUCHED = 0, ACTIVE = 1, BLOCKED = 2, PENDING = 3 };

// Per-node state of a job in one 16-byte record (a push reads one cache line):
// tag = mark * 4 + state, where tag / 4 == mark means the record belongs to the current job.
struct Node {
    uint32_t tag;
    float theta;  // hashed threshold (float32, as draw_thresholds); injected ones are read as is
    double agg;   // LT: sum of pushed weights; minimum / multiplication: the step's aggregate
};
static_assert(sizeof(Node) == 16, "Node must pack into 16 bytes");

constexpr uint32_t kMaxMark = (1u << 30) - 1;

struct Workspace {
    std::vector<Node> node;
    std::vector<int32_t> cand;      // provenance: lowest pusher of the current level
    std::vector<int32_t> active;    // activated nodes of the job, level after level
    std::vector<int32_t> pending;   // nodes reached by the current level, first-touch order
    std::vector<int64_t> count, blocked_count;
    uint32_t mark = 0;

    Workspace(int64_t n, bool provenance, bool counts, bool blocked_counts)
        : node(n, Node{0, 0.0f, 0.0}), cand(provenance ? n : 0) {
        active.reserve(n);
        pending.reserve(n);
        if (counts) count.assign(n, 0);
        if (blocked_counts) blocked_count.assign(n, 0);
    }

    uint32_t next_mark() {
        if (++mark > kMaxMark) {  // wrapped after 2^30 jobs: forget every tag
            for (auto& x : node) x.tag = 0;
            mark = 1;
        }
        return mark;
    }
};

template <int M>
int threshold_runs(int64_t n, const int64_t* rowptr, const int32_t* col, const double* weight,
                   const double* alpha, const int64_t* seeds_cat, const int64_t* seeds_ptr,
                   int64_t num_sets, int64_t num_runs, int64_t run_offset, uint64_t key,
                   const double* thresholds, int num_threads, int64_t* spreads,
                   int64_t* blocked, int64_t* node_count, int64_t* node_blocked, int32_t* step,
                   int64_t* parent, int64_t* max_steps) {
#ifdef _OPENMP
    if (num_threads < 1) num_threads = 1;
#else
    num_threads = 1;
#endif
    const int64_t total = num_sets * num_runs;
    const bool provenance = step != nullptr || parent != nullptr;
    std::vector<Workspace*> spaces(num_threads, nullptr);
    std::vector<int64_t> deepest(num_threads, 0);
    int status = 0;
#pragma omp parallel num_threads(num_threads)
    {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        Workspace* ws = nullptr;
        try {
            ws = new Workspace(n, provenance, node_count != nullptr,
                               M != LT && node_blocked != nullptr);
        } catch (...) {
#pragma omp atomic write
            status = 2;
        }
        spaces[tid] = ws;
#pragma omp barrier
        if (status == 0) {
            Node* node = ws->node.data();
            int32_t* cand = provenance ? ws->cand.data() : nullptr;
            std::vector<int32_t>& active = ws->active;
            std::vector<int32_t>& pending = ws->pending;
            int64_t my_deepest = 0;
#pragma omp for schedule(dynamic, 2)
            for (int64_t job = 0; job < total; ++job) {
                const int64_t set = job / num_runs;
                const int64_t r = job - set * num_runs;
                const uint64_t run = static_cast<uint64_t>(run_offset + r);
                const double* run_theta = thresholds ? thresholds + r * n : nullptr;
                int32_t* run_step = step ? step + r * n : nullptr;
                int64_t* run_parent = parent ? parent + r * n : nullptr;
                if (run_step) std::fill(run_step, run_step + n, -1);
                if (run_parent) std::fill(run_parent, run_parent + n, -1);
                const uint32_t base = ws->next_mark() << 2;
                active.clear();
                for (int64_t i = seeds_ptr[set]; i < seeds_ptr[set + 1]; ++i) {
                    const int64_t s = seeds_cat[i];
                    if ((node[s].tag & ~3u) == base) continue;
                    node[s].tag = base | ACTIVE;
                    active.push_back(static_cast<int32_t>(s));
                    if (run_step) run_step[s] = 0;
                }
                int64_t lo = 0, t = 0, num_blocked = 0;
                if (M == PRODUCT) std::sort(active.begin(), active.end());
                while (lo < static_cast<int64_t>(active.size())) {
                    const int64_t hi = static_cast<int64_t>(active.size());
                    ++t;
                    pending.clear();
                    for (int64_t i = lo; i < hi; ++i) {
                        const int32_t u = active[i];
                        const double a = (M == MINIMUM && alpha) ? alpha[u] : 1.0;
                        const int64_t end = rowptr[u + 1];
                        for (int64_t e = rowptr[u]; e < end; ++e) {
                            const int32_t v = col[e];
                            Node& x = node[v];
                            if ((x.tag & ~3u) != base) {  // first touch in this job
                                x.tag = base | TOUCHED;
                                x.agg = 0.0;
                                if (!run_theta)
                                    x.theta = 1.0f - hash_uniform(key, run,
                                                                  static_cast<uint64_t>(v));
                            }
                            const uint32_t st = x.tag & 3u;
                            if (st == ACTIVE || st == BLOCKED) continue;
                            const double w = weight[e];
                            if (st != PENDING) {
                                x.tag = base | PENDING;
                                pending.push_back(v);
                                if (M == MINIMUM) x.agg = std::numeric_limits<double>::infinity();
                                if (M == PRODUCT) x.agg = 1.0;
                                if (cand) cand[v] = INT32_MAX;
                            }
                            if (M == LT) {
                                x.agg += w;
                                if (cand && w > 0.0 && u < cand[v]) cand[v] = u;
                            } else {
                                if (M == MINIMUM) x.agg = std::min(x.agg, a * w);
                                if (M == PRODUCT) x.agg *= w;
                                if (cand && u < cand[v]) cand[v] = u;
                            }
                        }
                    }
                    for (const int32_t v : pending) {
                        Node& x = node[v];
                        const double th = run_theta ? run_theta[v] : static_cast<double>(x.theta);
                        const bool pass = M == LT ? (x.agg >= th && x.agg > 0.0) : x.agg >= th;
                        if (pass) {
                            x.tag = base | ACTIVE;
                            active.push_back(v);
                            if (run_step) run_step[v] = static_cast<int32_t>(t);
                            if (run_parent) run_parent[v] = cand[v];
                        } else if (M == LT) {
                            x.tag = base | TOUCHED;
                        } else {
                            x.tag = base | BLOCKED;
                            ++num_blocked;
                            if (!ws->blocked_count.empty()) ++ws->blocked_count[v];
                        }
                    }
                    if (M == PRODUCT) std::sort(active.begin() + hi, active.end());
                    lo = hi;
                }
                // t - 1 steps activated somebody (the last level found no one)
                if (t - 1 > my_deepest) my_deepest = t - 1;
                spreads[job] = static_cast<int64_t>(active.size());
                if (blocked) blocked[job] = num_blocked;
                if (!ws->count.empty())
                    for (const int32_t v : active) ++ws->count[v];
            }
            deepest[tid] = my_deepest;
        }
    }
    for (int i = 0; i < num_threads; ++i) {
        Workspace* ws = spaces[i];
        if (!ws) continue;
        if (status == 0) {
            if (node_count)
                for (int64_t v = 0; v < n; ++v) node_count[v] += ws->count[v];
            if (node_blocked && !ws->blocked_count.empty())
                for (int64_t v = 0; v < n; ++v) node_blocked[v] += ws->blocked_count[v];
        }
        delete ws;
    }
    if (max_steps) {
        int64_t m = 0;
        for (const int64_t d : deepest) m = std::max(m, d);
        *max_steps = m;
    }
    return status;
}

}  // namespace

extern "C" {

// `num_sets * num_runs` runs of one threshold model (mode 0 LT, 1 minimum, 2 multiplication).
//   rowptr [n+1] (int64), col [E] (int32), weight [E] (float64; LT: quantised, see above),
//   alpha [n] (float64, minimum model only, may be null).
//   Seed set s = seeds_cat[seeds_ptr[s] .. seeds_ptr[s + 1]]; run r of every set uses run index
//   run_offset + r (common random numbers across sets).
//   thresholds [num_runs * n] (float64, may be null: hashed from key).
// Outputs (job = s * num_runs + r): spreads [S * R] (int64), blocked [S * R] (int64, may be
//   null); node_count / node_blocked [n] (int64, added to, may be null); step [R * n] (int32) and
//   parent [R * n] (int64) for a single set (may be null); max_steps [1] (may be null).
// Returns 0 on success, 1 for an unknown mode, 2 when the workspace cannot be allocated.
int threshold_model_runs(int mode, int64_t n, const int64_t* rowptr, const int32_t* col,
                         const double* weight, const double* alpha, const int64_t* seeds_cat,
                         const int64_t* seeds_ptr, int64_t num_sets, int64_t num_runs,
                         int64_t run_offset, uint64_t key, const double* thresholds,
                         int num_threads, int64_t* spreads, int64_t* blocked,
                         int64_t* node_count, int64_t* node_blocked, int32_t* step,
                         int64_t* parent, int64_t* max_steps) {
    switch (mode) {
        case LT:
            return threshold_runs<LT>(n, rowptr, col, weight, alpha, seeds_cat, seeds_ptr,
                                      num_sets, num_runs, run_offset, key, thresholds,
                                      num_threads, spreads, blocked, node_count, node_blocked,
                                      step, parent, max_steps);
        case MINIMUM:
            return threshold_runs<MINIMUM>(n, rowptr, col, weight, alpha, seeds_cat, seeds_ptr,
                                           num_sets, num_runs, run_offset, key, thresholds,
                                           num_threads, spreads, blocked, node_count,
                                           node_blocked, step, parent, max_steps);
        case PRODUCT:
            return threshold_runs<PRODUCT>(n, rowptr, col, weight, alpha, seeds_cat, seeds_ptr,
                                           num_sets, num_runs, run_offset, key, thresholds,
                                           num_threads, spreads, blocked, node_count,
                                           node_blocked, step, parent, max_steps);
        default:
            return 1;
    }
}

// Thresholds of runs run_offset .. run_offset + num_runs - 1 for `key`, row-major [R * n]
// float32, exactly as draw_thresholds (1 - hash_uniform); for tests of the port.
int lt_hash_thresholds(int64_t n, int64_t num_runs, int64_t run_offset, uint64_t key,
                       float* out) {
    for (int64_t r = 0; r < num_runs; ++r)
        for (int64_t v = 0; v < n; ++v)
            out[r * n + v] = 1.0f - hash_uniform(key, static_cast<uint64_t>(run_offset + r),
                                                 static_cast<uint64_t>(v));
    return 0;
}

}  // extern "C"
