// Randomness shared by the native CPU kernels (influence_gpu/diffusion/_native/*.cpp,
// influence_gpu/rr/_native/rr_kernel.cpp): the counter-based splitmix64 hash behind every
// injected coin and threshold, and the splitmix64-seeded xoshiro256** stream of the IC sampler.
//
// influence_gpu/kernels/native.py compiles each kernel with -I<this folder> and hashes this file
// into the cache tag of every kernel that includes it, so an edit here rebuilds them all.
#pragma once

#include <cstdint>

namespace ig {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;  // splitmix64 increment (the run multiplier)
constexpr uint64_t kM2 = 0x94D049BB133111EBULL;      // item multiplier (splitmix64's 2nd constant)

// The splitmix64 finaliser (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
// generators").
inline uint64_t mix64(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * kM2;
    return x ^ (x >> 31);
}

// The 64-bit hash of (key, run, item): the finaliser over run * golden + item * M2 + key.
inline uint64_t hash64(uint64_t key, uint64_t run, uint64_t item) {
    return mix64(run * kGolden + item * kM2 + key);
}

// Bit-for-bit the same as influence_gpu.diffusion._common.hash_uniform (top 24 bits of hash64
// as a float32 in [0, 1)), so the native and torch backends see the same coins.
inline float hash_uniform(uint64_t key, uint64_t run, uint64_t item) {
    return static_cast<float>(hash64(key, run, item) >> 40) * 0x1.0p-24f;
}

// One step of the splitmix64 generator: advances the state s and returns its next output.
inline uint64_t splitmix64(uint64_t& s) { return mix64(s += kGolden); }

// xoshiro256** (Blackman & Vigna 2021, "Scrambled linear pseudorandom number generators"), its
// state filled by splitmix64 from one seed.
struct Xoshiro256ss {
    uint64_t s[4];
    explicit Xoshiro256ss(uint64_t seed) {
        for (auto& x : s) x = splitmix64(seed);
    }
    static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    inline uint64_t next() {
        const uint64_t result = rotl(s[1] * 5, 7) * 9;
        const uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
    inline float uniform() { return (next() >> 40) * 0x1.0p-24f; }            // [0, 1)
    inline float uniform_open0() { return ((next() >> 40) + 1) * 0x1.0p-24f; }  // (0, 1]
};

}  // namespace ig
