/* examples/softmax_logits.c — softmax turns logits into probabilities.
 *
 * softmax(z)_i = exp(z_i) / sum_k exp(z_k). For the logits (2.0, 1.0, 0.1) of notes 001 (CNN
 * section, "LOGITS SCORES -> SOFTMAX -> PROBABILITIES") the notes show p = (0.7, 0.2, 0.1), one
 * decimal. The program prints p at that precision, at the 3 decimals of the SoftMax function of
 * notes 004 (7.1.2, round(.., 3)) and in full,
 * checks that the probabilities sum to 1, and shows that adding a constant to every logit
 * changes nothing (nb_softmax subtracts the maximum first, so even z + 1000 does not
 * overflow). Other logits can be given on the command line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

#define MAX_LOGITS 64

static const double COURSE_Z[3] = {2.0, 1.0, 0.1};
static const double NOTES_P[3] = {0.7, 0.2, 0.1}; /* notes 001, given with 1 decimal */

static const ex_program PROG = {
    .name = "softmax_logits",
    .summary = "softmax of a vector of logits (default: notes 001's 2.0, 1.0, 0.1)",
    .details = "Reproduces notes 001, CNN section (softmax slide: logits 2.0, 1.0, 0.1 give\n"
               "p = 0.7, 0.2, 0.1) and the SoftMax function of notes 004, 7.1.2 (3 decimals).\n"
               "Computes p = nb_softmax(z) in float64 and prints each p_i with 1 decimal (as\n"
               "001), 3 decimals (as 004) and in full, their sum, and the largest change when\n"
               "every logit is shifted by +1000 (softmax is shift-invariant; the shift would\n"
               "overflow a naive exp). --check (default logits only) compares p with the\n"
               "notes' (0.7, 0.2, 0.1) to within 0.05, the rounding of 1 decimal, and exits\n"
               "with status 1 on a mismatch.\n",
    .positional = "[LOGIT ...]",
    .max_positional = MAX_LOGITS,
};

int main(int argc, char **argv)
{
    bool check = false;
    ex_opt opts[] = {
        {"check", EX_OPT_FLAG, &check, "compare with the notes' (0.7, 0.2, 0.1)"},
    };
    char *pos[MAX_LOGITS];
    int n_pos = 0;
    ex_args_result ar = ex_parse_args(&PROG, opts, 1, argc, argv, pos, &n_pos);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;

    double z[MAX_LOGITS];
    int n = n_pos ? n_pos : 3;
    for (int i = 0; i < n; i++) {
        if (!n_pos) {
            z[i] = COURSE_Z[i];
            continue;
        }
        char *end = NULL;
        z[i] = strtod(pos[i], &end);
        if (end == pos[i] || *end || !isfinite(z[i]))
            return ex_usage_error(&PROG, "logit '%s' is not a finite number", pos[i]);
    }
    if (check && n_pos)
        return ex_usage_error(&PROG, "--check compares the notes' logits: give no LOGIT");

    const int64_t shape[1] = {n};
    nb_tensor *zt = nb_tensor_from_data(NB_F64, 1, shape, z);
    nb_step *step = nb_step_new();
    if (!zt || !step)
        return ex_fail(PROG.name, "setup");

    nb_step_begin(step);
    nb_tensor *p = nb_softmax(zt, 0);
    nb_tensor *p_shift = nb_softmax(nb_add_scalar(zt, 1000.0), 0);
    if (!p || !p_shift) {
        nb_step_end(step);
        return ex_fail(PROG.name, "nb_softmax");
    }

    printf("softmax of logits z = (");
    for (int i = 0; i < n; i++)
        printf("%s%g", i ? ", " : "", z[i]);
    printf(")\n");
    printf("   i   z_i        p_i (1 dec., 001)  p_i (3 dec., 004)  p_i (full precision)\n");
    double sum = 0.0, max_shift = 0.0;
    for (int i = 0; i < n; i++) {
        double pi = nb_tensor_get(p, i);
        sum += pi;
        max_shift = fmax(max_shift, fabs(nb_tensor_get(p_shift, i) - pi));
        printf("  %2d   %-9g  %.1f                %.3f              %.17g\n", i, z[i], pi, pi, pi);
    }
    printf("sum of p = %.17g\n", sum);
    printf("max |softmax(z + 1000) - softmax(z)| = %.3e\n", max_shift);

    int status = 0;
    if (check) {
        int failures = 0;
        printf("\ncomparison with notes 001 (tolerance 0.05: values given with 1 decimal)\n");
        for (int i = 0; i < 3; i++) {
            char what[16];
            snprintf(what, sizeof what, "p_%d", i);
            failures += !ex_check(what, nb_tensor_get(p, i), NOTES_P[i], 0.05);
        }
        failures += !ex_check("sum of p", sum, 1.0, 1e-12);
        printf("%s\n",
               failures ? "softmax differs from the notes" : "softmax agrees with the notes");
        status = failures ? 1 : 0;
    }
    nb_step_end(step);
    nb_step_free(step);
    nb_tensor_free(zt);
    return status;
}
