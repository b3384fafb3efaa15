#!/usr/bin/env python3
"""Print the tables of ops/vpow.c's vector pow (paste the output over the tables there).

log2: the float x = 2^k z with z in [OFF, 2 OFF) (OFF = 0x3f330000, about 0.699), split into 16
subintervals by the top 4 bits of the mantissa of bits(x) - OFF. Subinterval i is z's bit
patterns [OFF + i 2^19, OFF + (i + 1) 2^19); c is its midpoint, INVC[i] = 1/c rounded to double
(c = 1 for the subinterval holding 1, so that log2(1) is exactly 0) and LOGC[i] = -log2(INVC[i]), so that log2(z) = log2(z INVC[i]) + LOGC[i] holds for the stored
INVC exactly, and r = z INVC[i] - 1 lies within about +-1/32.

exp2: EXP2[j] = bits(2^(j/16)) - j 2^48, so that adding k 2^48 (k = 16 e + j, e the power of two)
to it gives bits(2^(k/16)) whatever j is (the subtraction cancels j's bits above the mantissa).
"""
import math
import struct

OFF = 0x3F330000


def f32(bits):
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def bits64(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


invc, logc, exp2 = [], [], []
for i in range(16):
    lo, hi = f32(OFF + (i << 19)), f32(OFF + ((i + 1) << 19))
    ic = 1.0 if lo <= 1.0 < hi else 1.0 / ((lo + hi) / 2)
    invc.append(ic)
    logc.append(0.0 - math.log2(ic))
for j in range(16):
    exp2.append((bits64(2.0 ** (j / 16)) - (j << 48)) & 0xFFFFFFFFFFFFFFFF)


def rows(vals, fmt):
    return ",\n".join("    " + ", ".join(fmt(v) for v in vals[k:k + 4]) for k in range(0, 16, 4))


print("static const double INVC[16] = {\n%s};" % rows(invc, lambda v: v.hex()))
print("static const double LOGC[16] = {\n%s};" % rows(logc, lambda v: v.hex()))
print("static const uint64_t EXP2[16] = {\n%s};" % rows(exp2, lambda v: "0x%016x" % v))
