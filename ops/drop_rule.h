/* ops/drop_rule.h — which elements dropout keeps: one rule for nb_dropout (ops/random.c) and
 * the fused attention's dropout on its weights (ops/attention.c), so that attention equals its
 * composition with nb_dropout, dropout included.
 *
 * A call draws one 64-bit seed from the caller's generator; element i (the flat index in
 * row-major order) is kept when mix64(seed + 0x9e3779b97f4a7c15 (i + 1)) >= threshold, with
 * threshold = p 2^64 (at least 1 for p > 0): splitmix64's output for the counter i + 1, so a
 * keep decision depends only on (seed, i). Any element can be decided on its own: the loops
 * vectorise, split across threads, and backward decides again instead of storing a mask. */
#ifndef NABLA_OPS_DROP_RULE_H
#define NABLA_OPS_DROP_RULE_H

#include <stdbool.h>
#include <stdint.h>

/* splitmix64's finaliser */
static inline uint64_t nbi_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* p in [0, 1) -> the threshold below which a hash drops its element */
static inline uint64_t nbi_drop_threshold(double p)
{
    uint64_t t = (uint64_t)(p * 18446744073709551616.0);
    return p > 0 && t == 0 ? 1 : t;
}

static inline bool nbi_drop_keep(uint64_t seed, uint64_t i, uint64_t threshold)
{
    return nbi_mix64(seed + 0x9e3779b97f4a7c15ULL * (i + 1)) >= threshold;
}

#endif
