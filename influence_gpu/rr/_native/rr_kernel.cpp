// Native CPU kernels for reverse-reachable (RR) sets: IC reverse searches, LT reverse walks and
// temporal IC latest-activation searches (rr_sample_temporal), blocking RR sets of competitive IC
// (rr_sample_blocking) and their world-rooted variant (rr_world_sketch),
// samples spread over OpenMP threads, plus the node -> sets inverted index used by max coverage.
// Plain C ABI, loaded with ctypes (influence_gpu/rr/_native/__init__.py).
//
// Randomness is counter-based and bit-for-bit the same as the torch path of
// influence_gpu/rr/samplers.py (splitmix64 finaliser of run * golden + item * M2 + key, the hash
// of influence_gpu.diffusion._common.hash_uniform):
//   root of sample r         = (hash64(key, r, 2^64 - 1) >> 1) mod n
//   IC: geometric skipping with thinning over the in-arcs of each node w (in-CSR positions
//       j0 .. j0 + d - 1): with q = 1 - max_j p_j, draw t = 0, 1, ... is
//       u_t = hash_open0(key, r, E + j0 + t) in (0, 1]; from position pos, the next candidate
//       lies c arcs further, c = #{m in 1..d-pos : q^m >= u_t} (tab[j0 + m - 1] = q^m), none when
//       c = d - pos; candidate j is live iff acc[j] = p_j / p_max >= 1 or
//       hash_uniform(key, r, j) < acc[j]. Arc j is then live with probability p_j,
//       independently, and a node costs one binary search per candidate (plus one), not a
//       coin per in-arc.
//   LT: node w of sample r picks the first in-arc j (in-CSR order) with u < in_cum[j], where
//       u = hash_uniform(key, r, w) and in_cum is the running sum of w's in-weights; none when
//       u >= the total.
// So a sketch does not depend on the thread count or on how samples are split into calls.
// Every RR set is returned in discovery order: the root, then the FIFO order of the reverse
// search (for LT, the walk), which the torch path reproduces.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "native_hash.h"

namespace {

using ig::hash64;
using ig::hash_uniform;

inline double hash_open0(uint64_t key, uint64_t run, uint64_t item) {  // (0, 1]
    return static_cast<double>((hash64(key, run, item) >> 40) + 1) * 0x1.0p-24;
}

inline int32_t root_of(uint64_t key, uint64_t run, int64_t n) {
    return static_cast<int32_t>((hash64(key, run, ~0ULL) >> 1) % static_cast<uint64_t>(n));
}

// One record per in-arc, in in-CSR order: what a reverse-search step reads sits together.
struct InArc {
    double tab;   // q^m, m = 1 + position in the row: the skip table
    int32_t src;  // the in-neighbour
    float acc;    // p_j / p_max of its row: the thinning probability of a candidate
};
static_assert(sizeof(InArc) == 16, "InArc must be 16 bytes");

constexpr int64_t kBlock = 512;  // samples per work unit (and per output buffer)

struct Batch {
    int64_t num_sets = 0;
    std::vector<int64_t> sizes;                // size of each set
    std::vector<std::vector<int32_t>> blocks;  // block b holds samples [b * kBlock, ...)
};

// A batch for num_sets sets: zero sizes and one output block per kBlock samples.
inline Batch* new_batch(int64_t num_sets) {
    auto* batch = new Batch();
    batch->num_sets = num_sets;
    batch->sizes.assign(num_sets, 0);
    batch->blocks.resize((num_sets + kBlock - 1) / kBlock);
    return batch;
}

inline int threads(int num_threads) {
#ifdef _OPENMP
    return num_threads < 1 ? 1 : num_threads;
#else
    (void)num_threads;
    return 1;
#endif
}

}  // namespace

extern "C" {

// Pack the in-arcs for IC sampling: arcs [E] InArc records (16 bytes each, in-CSR order) from
//   tab [E] float64 skip tables, in_src [E] int32, acc [E] float32 thinning probabilities.
int rr_pack_ic(int64_t num_edges, const double* tab, const int32_t* in_src, const float* acc,
               InArc* arcs) {
    for (int64_t j = 0; j < num_edges; ++j) arcs[j] = InArc{tab[j], in_src[j], acc[j]};
    return 0;
}

// Sample RR sets start .. start + num_sets - 1.
//   model: 0 = IC (uses arcs from rr_pack_ic), 1 = LT (uses in_src and in_cum)
//   in_ptr [n+1] int64; in_src [E] int32 (in-CSR order); in_cum [E] float64 running in-weight
//   sums of each node's in-arcs.
// Output: total (one int64): the number of entries. Returns an opaque batch for rr_collect
// (null on failure).
void* rr_sample(int model, int64_t n, const int64_t* in_ptr, const InArc* arcs,
                const int32_t* in_src, const double* in_cum, int64_t num_sets,
                int64_t start, uint64_t key, int num_threads, int64_t* total) {
    if (n < 1 || num_sets < 0) return nullptr;
    const uint64_t num_edges = static_cast<uint64_t>(in_ptr[n]);
    const int nt = threads(num_threads);
    auto* batch = new_batch(num_sets);
    int64_t* sizes = batch->sizes.data();
    const int64_t num_blocks = static_cast<int64_t>(batch->blocks.size());
#pragma omp parallel num_threads(nt)
    {
        std::vector<uint32_t> stamp(n, 0);
        std::vector<int32_t> queue;
        queue.reserve(64);
        uint32_t mark = 0;
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < num_blocks; ++b) {
            std::vector<int32_t>& out = batch->blocks[b];
            const int64_t lo = b * kBlock, hi = std::min(num_sets, lo + kBlock);
            for (int64_t i = lo; i < hi; ++i) {
                if (++mark == 0) {  // stamps wrapped: clear them
                    std::fill(stamp.begin(), stamp.end(), 0u);
                    mark = 1;
                }
                const uint64_t run = static_cast<uint64_t>(start + i);
                const int32_t root = root_of(key, run, n);
                queue.clear();
                queue.push_back(root);
                stamp[root] = mark;
                if (model == 0) {
                    for (size_t head = 0; head < queue.size(); ++head) {
                        const int32_t w = queue[head];
                        // hide the memory latency of the next nodes' rows (the search is
                        // latency-bound): their offsets two ahead, their arcs one ahead
                        if (head + 2 < queue.size()) __builtin_prefetch(in_ptr + queue[head + 2]);
                        if (head + 1 < queue.size())
                            __builtin_prefetch(arcs + in_ptr[queue[head + 1]]);
                        const int64_t j0 = in_ptr[w], deg = in_ptr[w + 1] - j0;
                        const InArc* row = arcs + j0;
                        uint64_t draw = num_edges + static_cast<uint64_t>(j0);
                        for (int64_t pos = 0; pos < deg;) {
                            const double u = hash_open0(key, run, draw++);
                            const int64_t rem = deg - pos;
                            const int64_t c =
                                std::partition_point(row, row + rem,
                                                     [u](const InArc& x) { return x.tab >= u; }) -
                                row;
                            if (c == rem) break;  // no candidate left in the row
                            const int64_t j = j0 + pos + c;
                            pos += c + 1;
                            const InArc& a = arcs[j];
                            if (stamp[a.src] == mark) continue;
                            if (a.acc < 1.0f &&
                                !(hash_uniform(key, run, static_cast<uint64_t>(j)) < a.acc))
                                continue;
                            stamp[a.src] = mark;
                            queue.push_back(a.src);
                        }
                    }
                } else {
                    int32_t w = root;
                    while (true) {
                        const int64_t j0 = in_ptr[w], j1 = in_ptr[w + 1];
                        if (j0 == j1) break;
                        const double u = static_cast<double>(
                            hash_uniform(key, run, static_cast<uint64_t>(w)));
                        const int64_t j = std::upper_bound(in_cum + j0, in_cum + j1, u) - in_cum;
                        if (j == j1) break;  // no in-arc picked
                        const int32_t v = in_src[j];
                        if (stamp[v] == mark) break;  // revisit: the walk closed a cycle
                        stamp[v] = mark;
                        queue.push_back(v);
                        w = v;
                    }
                }
                out.insert(out.end(), queue.begin(), queue.end());
                sizes[i] = static_cast<int64_t>(queue.size());
            }
        }
    }
    int64_t sum = 0;
    for (int64_t i = 0; i < num_sets; ++i) sum += sizes[i];
    *total = sum;
    return batch;
}

// Temporal IC (ICT) RR sets, start .. start + num_sets - 1: the reverse latest-activation search
// of influence_gpu/rr/temporal.py. Times are ranks 0 .. T-1 (T stands for +inf). L(root) = T;
// popping nodes in decreasing L (a max-heap; the arc map x -> last contact <= x is monotone and
// never increases x, so a node's L is final when first popped), every in-arc j of w with
// e = in_eid[j] live (hash_uniform(key, run, e) < prob[e]) offers u = in_src[j] the latest
// contact rank <= L(w) (< L(w) when strict) among contact_rank[time_ptr[e] .. time_ptr[e + 1]]
// (sorted). Members: the root, and every u with L(u) >= start_rank (> when strict), the root
// first and the others in increasing id, as the torch path orders them.
void* rr_sample_temporal(int64_t n, const int64_t* in_ptr, const int32_t* in_src,
                         const int64_t* in_eid, const double* prob, const int64_t* time_ptr,
                         const int64_t* contact_rank, int64_t T, int64_t start_rank, int strict,
                         int64_t num_sets, int64_t start, uint64_t key, int num_threads,
                         int64_t* total) {
    if (n < 1 || num_sets < 0) return nullptr;
    const int nt = threads(num_threads);
    auto* batch = new_batch(num_sets);
    int64_t* sizes = batch->sizes.data();
    const int64_t num_blocks = static_cast<int64_t>(batch->blocks.size());
#pragma omp parallel num_threads(nt)
    {
        std::vector<uint32_t> stamp(n, 0);
        std::vector<int64_t> late(n, -1);
        std::vector<int32_t> touched, members;
        std::vector<std::pair<int64_t, int32_t>> heap;
        uint32_t mark = 0;
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < num_blocks; ++b) {
            std::vector<int32_t>& out = batch->blocks[b];
            const int64_t lo = b * kBlock, hi = std::min(num_sets, lo + kBlock);
            for (int64_t i = lo; i < hi; ++i) {
                if (++mark == 0) {
                    std::fill(stamp.begin(), stamp.end(), 0u);
                    mark = 1;
                }
                const uint64_t run = static_cast<uint64_t>(start + i);
                const int32_t root = root_of(key, run, n);
                touched.clear();
                heap.clear();
                stamp[root] = mark;
                late[root] = T;
                touched.push_back(root);
                heap.emplace_back(T, root);
                while (!heap.empty()) {
                    std::pop_heap(heap.begin(), heap.end());
                    const auto [lw, w] = heap.back();
                    heap.pop_back();
                    if (lw != late[w]) continue;  // stale entry
                    for (int64_t j = in_ptr[w]; j < in_ptr[w + 1]; ++j) {
                        const int64_t e = in_eid[j];
                        const double c = static_cast<double>(
                            hash_uniform(key, run, static_cast<uint64_t>(e)));
                        if (!(c < prob[e])) continue;
                        const int64_t* c0 = contact_rank + time_ptr[e];
                        const int64_t* c1 = contact_rank + time_ptr[e + 1];
                        const int64_t* it = strict ? std::lower_bound(c0, c1, lw)
                                                   : std::upper_bound(c0, c1, lw);
                        if (it == c0) continue;  // no usable contact
                        const int64_t r = *(it - 1);
                        const int32_t u = in_src[j];
                        if (stamp[u] != mark) {
                            stamp[u] = mark;
                            late[u] = -1;
                            touched.push_back(u);
                        }
                        if (r > late[u]) {
                            late[u] = r;
                            heap.emplace_back(r, u);
                            std::push_heap(heap.begin(), heap.end());
                        }
                    }
                }
                members.clear();
                for (const int32_t u : touched) {
                    if (u == root) continue;
                    if (strict ? late[u] > start_rank : late[u] >= start_rank) members.push_back(u);
                }
                std::sort(members.begin(), members.end());
                out.push_back(root);
                out.insert(out.end(), members.begin(), members.end());
                sizes[i] = static_cast<int64_t>(members.size()) + 1;
            }
        }
    }
    int64_t sum = 0;
    for (int64_t i = 0; i < num_sets; ++i) sum += sizes[i];
    *total = sum;
    return batch;
}

// Append to queue every in-neighbour u of queue[lo .. hi) not yet stamped whose in-arc is live in
// sample `run` (edge e live iff hash_uniform(key, run, e) < prob[e]); stamps it. One BFS level.
inline void expand_live_in_arcs(std::vector<int32_t>& queue, size_t lo, size_t hi,
                                const int64_t* in_ptr, const int32_t* in_src,
                                const int64_t* in_eid, const double* prob, uint64_t key,
                                uint64_t run, std::vector<uint32_t>& stamp, uint32_t mark) {
    for (size_t q = lo; q < hi; ++q) {
        const int32_t x = queue[q];
        for (int64_t p = in_ptr[x]; p < in_ptr[x + 1]; ++p) {
            const int32_t u = in_src[p];
            if (stamp[u] == mark) continue;
            const int64_t e = in_eid[p];
            if (!(static_cast<double>(hash_uniform(key, run, static_cast<uint64_t>(e))) < prob[e]))
                continue;
            stamp[u] = mark;
            queue.push_back(u);
        }
    }
}

// Blocking RR sets of influence_gpu/rr/blocking.py, samples start .. start + num_sets - 1 (the
// roots [num_sets] int64 are drawn by the caller). From roots[i] a reverse BFS level by level over
// live in-arcs (in-arc position p of w: e = in_eid[p] is live iff
// hash_uniform(key, start + i, e) < prob[e]); the first level holding a node with
// is_false[v] != 0 ends the search, and the nodes of the earlier levels, in increasing id, are
// the set. A search that runs out of nodes first saves nothing (an empty set), as does a false
// root. Identical, set for set, to the torch path.
void* rr_sample_blocking(int64_t n, const int64_t* in_ptr, const int32_t* in_src,
                         const int64_t* in_eid, const double* prob, const uint8_t* is_false,
                         const int64_t* roots, int64_t num_sets, int64_t start, uint64_t key,
                         int num_threads, int64_t* total) {
    if (n < 1 || num_sets < 0) return nullptr;
    const int nt = threads(num_threads);
    auto* batch = new_batch(num_sets);
    int64_t* sizes = batch->sizes.data();
    const int64_t num_blocks = static_cast<int64_t>(batch->blocks.size());
#pragma omp parallel num_threads(nt)
    {
        std::vector<uint32_t> stamp(n, 0);
        std::vector<int32_t> queue;
        uint32_t mark = 0;
#pragma omp for schedule(dynamic, 1)
        for (int64_t b = 0; b < num_blocks; ++b) {
            std::vector<int32_t>& out = batch->blocks[b];
            const int64_t lo = b * kBlock, hi = std::min(num_sets, lo + kBlock);
            for (int64_t i = lo; i < hi; ++i) {
                if (++mark == 0) {
                    std::fill(stamp.begin(), stamp.end(), 0u);
                    mark = 1;
                }
                const uint64_t run = static_cast<uint64_t>(start + i);
                const int32_t root = static_cast<int32_t>(roots[i]);
                queue.clear();
                queue.push_back(root);
                stamp[root] = mark;
                size_t level_lo = 0, level_hi = 1;
                bool hit = false;
                while (level_lo < level_hi) {
                    for (size_t q = level_lo; q < level_hi; ++q)
                        if (is_false[queue[q]]) {
                            hit = true;
                            break;
                        }
                    if (hit) break;
                    expand_live_in_arcs(queue, level_lo, level_hi, in_ptr, in_src, in_eid, prob,
                                        key, run, stamp, mark);
                    level_lo = level_hi;
                    level_hi = queue.size();
                }
                if (!hit) continue;  // never met S_F: saves nothing
                const size_t cut = level_lo;  // levels before the one that met S_F
                const size_t at = out.size();
                out.insert(out.end(), queue.begin(), queue.begin() + cut);
                std::sort(out.begin() + at, out.end());
                sizes[i] = static_cast<int64_t>(cut);
            }
        }
    }
    int64_t sum = 0;
    for (int64_t i = 0; i < num_sets; ++i) sum += sizes[i];
    *total = sum;
    return batch;
}

// World-rooted blocking sketch (influence_gpu/rr/blocking.py, sample_blocking_world_sketch):
// in world w (coins hash_uniform(key, w, e) < prob[e] on edge e, for worlds start .. start +
// num_worlds - 1) a forward BFS from S_F gives d_F(v) and the m_w nodes outside S_F it reaches.
// The roots of world w are, with roots_per_world = 0, every reached node in increasing id (set
// weight 1); with r = roots_per_world > 0, r nodes drawn with replacement, root j being
// reached_sorted[(hash64(key, w, 2^64 - 1 - j) >> 1) mod m_w] (set weight m_w / r; a world that
// reaches nothing has no sets). For each root v a reverse BFS over the same live arcs collects
// R_w(v) = {u : d(u, v) < d_F(v)} (v included), stored in increasing id. Out-arcs of u are
// rowptr[u] .. rowptr[u+1] with edge id = position; in-arcs as in rr_sample_blocking.
struct WorldBatch {
    std::vector<std::vector<int32_t>> roots;   // per world: the roots v of its sets
    std::vector<std::vector<int64_t>> sizes;   // per world: |R_w(v)|
    std::vector<std::vector<int32_t>> nodes;   // per world: the sets, concatenated
    std::vector<double> weight;                // per world: the weight of each of its sets
};

void* rr_world_sketch(int64_t n, const int64_t* rowptr, const int64_t* col, const int64_t* in_ptr,
                      const int32_t* in_src, const int64_t* in_eid, const double* prob,
                      const int64_t* false_ids, int64_t num_false, int64_t num_worlds,
                      int64_t roots_per_world, int64_t start, uint64_t key, int num_threads,
                      int64_t* num_sets, int64_t* total) {
    if (n < 1 || num_worlds < 0 || roots_per_world < 0) return nullptr;
    const int nt = threads(num_threads);
    auto* batch = new WorldBatch();
    batch->roots.resize(num_worlds);
    batch->sizes.resize(num_worlds);
    batch->nodes.resize(num_worlds);
    batch->weight.assign(num_worlds, 1.0);
#pragma omp parallel num_threads(nt)
    {
        std::vector<int32_t> dist(n, -1);
        std::vector<uint32_t> stamp(n, 0);
        std::vector<int32_t> fwd, rev, reached, picks;
        uint32_t mark = 0;
#pragma omp for schedule(dynamic, 1)
        for (int64_t w = 0; w < num_worlds; ++w) {
            const uint64_t run = static_cast<uint64_t>(start + w);
            fwd.clear();
            for (int64_t i = 0; i < num_false; ++i) {
                const int32_t f = static_cast<int32_t>(false_ids[i]);
                if (dist[f] < 0) {
                    dist[f] = 0;
                    fwd.push_back(f);
                }
            }
            for (size_t q = 0; q < fwd.size(); ++q) {
                const int32_t u = fwd[q];
                for (int64_t e = rowptr[u]; e < rowptr[u + 1]; ++e) {
                    const int32_t v = static_cast<int32_t>(col[e]);
                    if (dist[v] >= 0) continue;
                    if (!(static_cast<double>(hash_uniform(key, run, static_cast<uint64_t>(e))) <
                          prob[e]))
                        continue;
                    dist[v] = dist[u] + 1;
                    fwd.push_back(v);
                }
            }
            reached.clear();
            for (const int32_t v : fwd)
                if (dist[v] > 0) reached.push_back(v);
            std::sort(reached.begin(), reached.end());
            const int64_t m = static_cast<int64_t>(reached.size());
            picks.clear();
            if (roots_per_world == 0) {
                picks.assign(reached.begin(), reached.end());
            } else if (m > 0) {
                for (int64_t j = 0; j < roots_per_world; ++j) {
                    const uint64_t h = hash64(key, run, ~0ULL - static_cast<uint64_t>(j)) >> 1;
                    picks.push_back(reached[h % static_cast<uint64_t>(m)]);
                }
                batch->weight[w] = static_cast<double>(m) / static_cast<double>(roots_per_world);
            }
            auto& roots = batch->roots[w];
            auto& sizes = batch->sizes[w];
            auto& out = batch->nodes[w];
            for (const int32_t v : picks) {
                const int32_t limit = dist[v] - 1;  // levels 0 .. limit are savers
                if (++mark == 0) {
                    std::fill(stamp.begin(), stamp.end(), 0u);
                    mark = 1;
                }
                rev.clear();
                rev.push_back(v);
                stamp[v] = mark;
                size_t lo = 0, hi = 1;
                for (int32_t level = 0; level < limit && lo < hi; ++level) {
                    expand_live_in_arcs(rev, lo, hi, in_ptr, in_src, in_eid, prob, key, run,
                                        stamp, mark);
                    lo = hi;
                    hi = rev.size();
                }
                std::sort(rev.begin(), rev.end());
                roots.push_back(v);
                sizes.push_back(static_cast<int64_t>(rev.size()));
                out.insert(out.end(), rev.begin(), rev.end());
            }
            for (const int32_t v : fwd) dist[v] = -1;
        }
    }
    int64_t sets = 0, sum = 0;
    for (int64_t w = 0; w < num_worlds; ++w) {
        sets += static_cast<int64_t>(batch->roots[w].size());
        sum += static_cast<int64_t>(batch->nodes[w].size());
    }
    *num_sets = sets;
    *total = sum;
    return batch;
}

// Copy a world sketch out and free it: ends [num_sets] int64 (running entry counts), nodes
// [total] int32, world [num_sets] int64 (start + w of each set), root [num_sets] int64, weight
// [num_sets] float64.
int rr_world_collect(void* handle, int64_t* ends, int32_t* nodes, int64_t* world, int64_t* root,
                     double* weight, int64_t start) {
    auto* batch = static_cast<WorldBatch*>(handle);
    if (!batch) return 1;
    int64_t set = 0, entry = 0;
    for (size_t w = 0; w < batch->roots.size(); ++w) {
        const auto& r = batch->roots[w];
        const auto& z = batch->sizes[w];
        const auto& x = batch->nodes[w];
        if (!x.empty()) std::memcpy(nodes + entry, x.data(), x.size() * sizeof(int32_t));
        for (size_t i = 0; i < r.size(); ++i) {
            entry += z[i];
            ends[set] = entry;
            world[set] = start + static_cast<int64_t>(w);
            root[set] = r[i];
            weight[set] = batch->weight[w];
            ++set;
        }
    }
    delete batch;
    return 0;
}

// Free a world sketch without copying (error paths).
void rr_world_free(void* handle) { delete static_cast<WorldBatch*>(handle); }

// Copy a batch's sets, in sample order, into nodes [total] (int32), write the CSR offsets
// ptr [num_sets] (int64; ptr[i] = base + entries of sets 0..i, the end of set i; may be null),
// and free the batch.
int rr_collect(void* handle, int32_t* nodes, int64_t* ptr, int64_t base, int num_threads) {
    auto* batch = static_cast<Batch*>(handle);
    if (!batch) return 1;
    if (ptr) {
        int64_t end = base;
        for (int64_t i = 0; i < batch->num_sets; ++i) ptr[i] = end += batch->sizes[i];
    }
    const int64_t num_blocks = static_cast<int64_t>(batch->blocks.size());
    std::vector<int64_t> offset(num_blocks + 1, 0);
    for (int64_t b = 0; b < num_blocks; ++b)
        offset[b + 1] = offset[b] + static_cast<int64_t>(batch->blocks[b].size());
#pragma omp parallel for num_threads(threads(num_threads)) schedule(dynamic, 4)
    for (int64_t b = 0; b < num_blocks; ++b) {
        auto& blk = batch->blocks[b];
        if (!blk.empty()) std::memcpy(nodes + offset[b], blk.data(), blk.size() * sizeof(int32_t));
        std::vector<int32_t>().swap(blk);
    }
    delete batch;
    return 0;
}

// Free a batch without copying (error paths).
void rr_free(void* handle) { delete static_cast<Batch*>(handle); }

// Inverted index of a sketch: the sets that contain node v are
// inv_sets[inv_ptr[v] .. inv_ptr[v + 1]], in increasing set order (a counting sort).
//   ptr [num_sets+1] int64, nodes [P] int32 -> inv_ptr [n+1] int64, inv_sets [P] int32
int rr_invert(int64_t n, int64_t num_sets, const int64_t* ptr, const int32_t* nodes,
              int64_t* inv_ptr, int32_t* inv_sets) {
    std::memset(inv_ptr, 0, sizeof(int64_t) * (n + 1));
    const int64_t total = ptr[num_sets];
    for (int64_t p = 0; p < total; ++p) ++inv_ptr[nodes[p] + 1];
    for (int64_t v = 0; v < n; ++v) inv_ptr[v + 1] += inv_ptr[v];
    std::vector<int64_t> fill(inv_ptr, inv_ptr + n);
    for (int64_t s = 0; s < num_sets; ++s)
        for (int64_t p = ptr[s]; p < ptr[s + 1]; ++p)
            inv_sets[fill[nodes[p]]++] = static_cast<int32_t>(s);
    return 0;
}

}  // extern "C"

extern "C" {

// Greedy max coverage with exact gains (counts), ties to the lowest node id, and the OPIM-C
// prefix bounds cov(S_i) + (sum of the k largest gains w.r.t. S_i) for i = 0..k.
//   ptr [num_sets+1] int64, nodes [P] int32, inv_ptr [n+1] int64, inv_sets [P] int32 (from
//   rr_invert), allowed [n] uint8 (candidate mask; null: every node)
// Outputs: ids [k] int64, covered [k] int64 (sets covered by each prefix), bounds [k+1] int64
// (may be null: no bounds). Returns 0, or 1 when fewer than k candidates exist.
int rr_greedy(int64_t n, int64_t num_sets, const int64_t* ptr, const int32_t* nodes,
              const int64_t* inv_ptr, const int32_t* inv_sets, const uint8_t* allowed, int64_t k,
              int64_t* ids, int64_t* covered, int64_t* bounds) {
    std::vector<int64_t> gain(n);
    std::vector<uint8_t> open(n);
    int64_t available = 0;
    std::vector<uint8_t> all;
    if (!allowed) {
        all.assign(n, 1);
        allowed = all.data();
    }
    for (int64_t v = 0; v < n; ++v) {
        gain[v] = inv_ptr[v + 1] - inv_ptr[v];
        open[v] = allowed[v] ? 1 : 0;
        available += open[v];
    }
    if (available < k) return 1;
    std::vector<uint8_t> done(num_sets, 0);
    const int64_t top = std::min(k, n);
    int64_t total = 0;
    // the bounds' top-k sums from a histogram of the candidates' gains: gains only decrease,
    // one step at a time, so the histogram is kept in O(1) per decrement
    std::vector<int64_t> hist;
    int64_t hi = 0;
    if (bounds) {
        int64_t max_gain = 0;
        for (int64_t v = 0; v < n; ++v)
            if (allowed[v]) max_gain = std::max(max_gain, gain[v]);
        hist.assign(max_gain + 1, 0);
        for (int64_t v = 0; v < n; ++v)
            if (allowed[v]) ++hist[gain[v]];
        hi = max_gain;
    }
    auto prefix_bound = [&]() {
        while (hi > 0 && hist[hi] == 0) --hi;
        int64_t left = top, s = 0;
        for (int64_t g = hi; g > 0 && left > 0; --g) {
            const int64_t take = std::min(left, hist[g]);
            s += take * g;
            left -= take;
        }
        return total + s;
    };
    for (int64_t step = 0; step < k; ++step) {
        if (bounds) bounds[step] = prefix_bound();
        int64_t best = -1, best_gain = -1;
        for (int64_t v = 0; v < n; ++v)
            if (open[v] && gain[v] > best_gain) {
                best_gain = gain[v];
                best = v;
            }
        ids[step] = best;
        open[best] = 0;
        for (int64_t q = inv_ptr[best]; q < inv_ptr[best + 1]; ++q) {
            const int32_t s = inv_sets[q];
            if (done[s]) continue;
            done[s] = 1;
            ++total;
            if (bounds) {
                for (int64_t p = ptr[s]; p < ptr[s + 1]; ++p) {
                    const int32_t v = nodes[p];
                    if (allowed[v]) {
                        --hist[gain[v]];
                        ++hist[gain[v] - 1];
                    }
                    --gain[v];
                }
            } else {
                for (int64_t p = ptr[s]; p < ptr[s + 1]; ++p) --gain[nodes[p]];
            }
        }
        covered[step] = total;
    }
    if (bounds) bounds[k] = prefix_bound();
    return 0;
}

}  // extern "C"
