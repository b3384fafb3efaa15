/* ops/registry.c — the op table, generated from ops/ops.def. */
#include "ops/op_def.h"

#define NB_OP(E, sym) extern const nbi_op_def nbi_op_##sym;
#include "ops/ops.def"
#undef NB_OP

_Static_assert(NB_OP_COUNT <= NBI_MAX_OPS, "raise NBI_MAX_OPS in autograd/op.h");

const nbi_op_def *const nbi_op_table[NB_OP_COUNT] = {
#define NB_OP(E, sym) [NB_OP_##E] = &nbi_op_##sym,
#include "ops/ops.def"
#undef NB_OP
};

const char *nbi_op_name(nb_op_id id)
{
    return id >= 0 && id < NB_OP_COUNT ? nbi_op_table[id]->name : "?";
}
