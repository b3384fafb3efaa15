/* tests/support/cases.c — the list of every op family's gradient-check case table. A new
 * family adds its table here (and defines it in tests/ops/cases_<family>.c). */
#include "support/nbt.h"

extern const nbt_case nbt_cases_elementwise[];
extern const nbt_case nbt_cases_reduce[];
extern const nbt_case nbt_cases_matmul[];
extern const nbt_case nbt_cases_shape[];
extern const nbt_case nbt_cases_softmax[];
extern const nbt_case nbt_cases_index[];
extern const nbt_case nbt_cases_loss[];
extern const nbt_case nbt_cases_conv[];
extern const nbt_case nbt_cases_pool[];
extern const nbt_case nbt_cases_random[];
extern const nbt_case nbt_cases_user_fn[];
extern const nbt_case nbt_cases_attention[];
extern const nbt_case nbt_cases_compare[];
extern const nbt_case nbt_cases_gather[];
extern const nbt_case nbt_cases_einsum[];
extern const nbt_case nbt_cases_reduce2[];
extern const nbt_case nbt_cases_norm[];
extern const nbt_case nbt_cases_rnn[];

/* one table a line, so families added side by side merge cleanly */
/* clang-format off */
const nbt_case *const nbt_case_tables[] = {
    nbt_cases_elementwise,
    nbt_cases_reduce,
    nbt_cases_matmul,
    nbt_cases_shape,
    nbt_cases_softmax,
    nbt_cases_index,
    nbt_cases_loss,
    nbt_cases_conv,
    nbt_cases_pool,
    nbt_cases_random,
    nbt_cases_user_fn,
    nbt_cases_attention,
    nbt_cases_compare,
    nbt_cases_gather,
    nbt_cases_einsum,
    nbt_cases_reduce2,
    nbt_cases_norm,
    nbt_cases_rnn,
    NULL,
};
/* clang-format on */
