/* ops/vpow.h — pow on float arrays, for pow and pow_scalar (ops/binary.c, ops/unary.c).
 *
 * libmvec's vector powf costs about 6x its expf, so with AVX-512 these run nabla's own kernel
 * (ops/vpow.c): log2 of the base in double from a 16-entry table held in registers (a permute,
 * not a gather) and a degree-6 series, times the exponent, then exp2 from a second 16-entry
 * table and a degree-4 series; within 1 ulp of the exact result. Lanes the kernel does not
 * cover (a base that is negative, subnormal, infinite or NaN, an infinite or NaN exponent, a
 * result beyond float's normal range) are computed by libm's scalar powf, so every result is
 * C's, special cases included. Without AVX-512 the loops call powf (libmvec). */
#ifndef NB_OPS_VPOW_H
#define NB_OPS_VPOW_H

#include <stdbool.h>
#include <stdint.h>

/* y[i] = x[i] ^ (e[i * se] + e_add) for i < n; se is 1, or 0 for one exponent e[0]. The sum
 * e + e_add is taken in float. x and y may not overlap unless equal. */
void nbi_vpow_f32(int64_t n, const float *x, const float *e, int64_t se, float e_add, float *y);

/* The gradients of y = a^b (b[i * sb], sb 1 or 0), from one log2 of a per element, with
 * torch.pow's conventions at 0 (ops/binary.c):
 *   da = dy * (b == 0 ? 0 : b a^(b - 1)),   db = dy * (a == 0 && b >= 0 ? 0 : y log(a)).
 * Either output may be NULL (not wanted); acc_a / acc_b add to it instead of assigning. y (the
 * forward's a^b) is needed for db; for da it may be NULL, and where given, a^(b - 1) is taken as
 * y / a wherever a and y are positive normal floats (within 2 ulp), else from log2. */
void nbi_vpow_grad_f32(int64_t n, const float *a, const float *b, int64_t sb, const float *y,
                       const float *dy, float *da, bool acc_a, float *db, bool acc_b);

#endif
