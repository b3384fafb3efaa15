/* examples/gradient_by_hand.c — the gradient of notes 001 ("Entrenamiento backpropagation"):
 * f(x, y) = x^2 + y^2, grad f = (2x, 2y), grad f(1, 2) = (2, 4).
 *
 * The gradient comes from nb_backward on f built from ops, beside the formula (2x, 2y) computed
 * in plain C. The picture shows what the notes say about it: at every point of the plane the
 * gradient points where f grows fastest, across the contour lines (circles) of f. Writes
 * PREFIX.png: contour lines of f, gradient arrows on a grid (scaled down), and the gradient at
 * (1, 2) with a gradient-descent path from that point. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/util.h"
#include "nabla.h"

#define EX_PI 3.14159265358979323846

static const double NOTES_POINT[2] = {1.0, 2.0}, NOTES_GRAD[2] = {2.0, 4.0};

static const ex_program PROG = {
    .name = "gradient_by_hand",
    .summary = "gradient of f = x^2 + y^2 by nb_backward: grad f(1, 2) = (2, 4), with a PNG",
    .details = "Reproduces notes 001, \"Entrenamiento backpropagation\": f(x, y) = x^2 + y^2 has\n"
               "the gradient (2x, 2y), and at (1, 2) it is (2, 4). Positional X Y choose another\n"
               "point. Writes PREFIX.png (--out): contour lines of f, gradient arrows, and\n"
               "gradient descent from the point with step --lr. --check (notes' point only)\n"
               "compares nb_backward's gradient with the notes' (2, 4) and exits 1 otherwise.\n",
    .positional = "[X Y]",
    .max_positional = 2,
};

/* grad f at (x, y) from nb_backward, and f itself. */
static nb_status autograd(double x, double y, double *g, double *f)
{
    nb_step *step = nb_step_new();
    nb_tensor *p = nb_tensor_from_data(NB_F64, 1, (int64_t[]){2}, (double[]){x, y});
    nb_status st = step && p ? nb_tensor_set_requires_grad(p, true) : NB_ERR_NOMEM;
    if (st == NB_OK && (st = nb_step_begin(step)) == NB_OK) {
        nb_tensor *fv = nb_sum(nb_mul(p, p), 0, false); /* x^2 + y^2 */
        st = fv ? nb_backward(fv) : nb_last_status();
        if (st == NB_OK) {
            *f = nb_tensor_item(fv);
            g[0] = nb_tensor_get(nb_tensor_grad(p), 0);
            g[1] = nb_tensor_get(nb_tensor_grad(p), 1);
        }
        nb_step_end(step);
    }
    nb_tensor_free(p);
    nb_step_free(step);
    return st;
}

/* A segment from (x0, y0) to (x1, y1) with a small arrow head, then a gap, in series `name`
 * (no comma: series names are CSV column names). Returns the status of the first point. */
static nb_status arrow(nb_curves *c, const char *name, double x0, double y0, double x1, double y1)
{
    const double dx = x1 - x0, dy = y1 - y0, len = hypot(dx, dy);
    const nb_status st = nb_curves_add(c, name, x0, y0);
    nb_curves_add(c, name, x1, y1);
    if (len > 0) {
        const double h = 0.3 * len, ux = dx / len, uy = dy / len;
        nb_curves_add(c, name, x1 - h * (ux * 0.87 - uy * 0.5), y1 - h * (uy * 0.87 + ux * 0.5));
        nb_curves_add(c, name, NAN, NAN);
        nb_curves_add(c, name, x1, y1);
        nb_curves_add(c, name, x1 - h * (ux * 0.87 + uy * 0.5), y1 - h * (uy * 0.87 - ux * 0.5));
    }
    nb_curves_add(c, name, NAN, NAN);
    return st;
}

int main(int argc, char **argv)
{
    bool check = false;
    double lr = 0.1;
    const char *out = "gradient_by_hand";
    ex_opt opts[] = {
        {"check", EX_OPT_FLAG, &check, "compare with the notes' grad f(1, 2) = (2, 4)"},
        {"lr", EX_OPT_DOUBLE, &lr, "step of the gradient-descent path in the picture"},
        {"out", EX_OPT_STRING, &out, "the picture is written to OUT.png"},
    };
    char *pos[2];
    int n_pos = 0;
    ex_args_result ar = ex_parse_args(&PROG, opts, 3, argc, argv, pos, &n_pos);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    double pt[2] = {NOTES_POINT[0], NOTES_POINT[1]};
    if (n_pos == 1)
        return ex_usage_error(&PROG, "give both X and Y, or neither");
    for (int i = 0; i < n_pos; i++) {
        char *end = NULL;
        pt[i] = strtod(pos[i], &end);
        if (end == pos[i] || *end || !isfinite(pt[i]) || fabs(pt[i]) > 1e6)
            return ex_usage_error(&PROG, "'%s' is not a number in [-1e6, 1e6]", pos[i]);
    }
    if (check && n_pos)
        return ex_usage_error(&PROG, "--check compares the notes' point (1, 2): give no X Y");
    if (!(lr > 0 && lr < 1))
        return ex_usage_error(&PROG, "--lr must be in (0, 1), got %g", lr);

    double g[2], f;
    if (autograd(pt[0], pt[1], g, &f) != NB_OK)
        return ex_fail(PROG.name, "gradient");
    printf("f(x, y) = x^2 + y^2,   grad f(x, y) = (2x, 2y)\n");
    printf("at (%g, %g): f = %g\n", pt[0], pt[1], f);
    printf("  grad f from nb_backward  = (%g, %g)\n", g[0], g[1]);
    printf("  grad f from (2x, 2y)     = (%g, %g)\n", 2 * pt[0], 2 * pt[1]);
    printf("  |grad f| = %g: the direction of fastest growth, across the contour line of f\n",
           hypot(g[0], g[1]));

    /* the picture: contours, arrows on a grid, the gradient at the point, descent from it */
    const double R = fmax(2.5, 1.3 * hypot(pt[0] + 0.25 * g[0], pt[1] + 0.25 * g[1]));
    nb_curves *c = nb_curves_new();
    if (!c)
        return ex_fail(PROG.name, "curves");
    for (int k = 1; k <= 4; k++) {
        const double r = R * k / 4.5;
        for (int a = 0; a <= 72; a++)
            nb_curves_add(c, "contours f = const", r * cos(a * EX_PI / 36),
                          r * sin(a * EX_PI / 36));
        nb_curves_add(c, "contours f = const", NAN, NAN);
    }
    const double scale = 0.12 * R / (2 * R); /* the longest arrow: about 0.12 R */
    for (int i = -3; i <= 3; i++)
        for (int j = -3; j <= 3; j++) {
            const double x = R * i / 3.5, y = R * j / 3.5;
            double gg[2], ff;
            if ((i || j) && autograd(x, y, gg, &ff) == NB_OK)
                arrow(c, "grad f (scaled)", x, y, x + scale * gg[0], y + scale * gg[1]);
        }
    char label[64];
    snprintf(label, sizeof label, "grad f(%.3g; %.3g) = (%.3g; %.3g) / 4", pt[0], pt[1], g[0],
             g[1]);
    if (arrow(c, label, pt[0], pt[1], pt[0] + 0.25 * g[0], pt[1] + 0.25 * g[1]) != NB_OK) {
        nb_curves_free(c);
        return ex_fail(PROG.name, "picture");
    }
    double p[2] = {pt[0], pt[1]};
    for (int k = 0; k < 25; k++) {
        double gg[2], ff;
        nb_curves_add(c, "gradient descent", p[0], p[1]);
        if (autograd(p[0], p[1], gg, &ff) != NB_OK)
            break;
        p[0] -= lr * gg[0];
        p[1] -= lr * gg[1];
    }
    char path[1024], title[96];
    snprintf(path, sizeof path, "%s.png", out);
    snprintf(title, sizeof title, "f = x^2 + y^2: contours and gradient");
    nb_plot_opts po = {.width = 700, .height = 700, .title = title, .xlabel = "x", .ylabel = "y"};
    nb_status st = nb_curves_write_png(c, path, &po);
    nb_curves_free(c);
    if (st != NB_OK)
        return ex_fail(PROG.name, "writing the picture");
    printf("wrote %s (contours, gradient arrows, gradient descent from (%g, %g) with step %g)\n",
           path, pt[0], pt[1], lr);

    int failures = 0;
    if (check) {
        printf("\ncomparison with the notes\n");
        failures += !ex_check("df/dx at (1, 2)", g[0], NOTES_GRAD[0], 1e-12);
        failures += !ex_check("df/dy at (1, 2)", g[1], NOTES_GRAD[1], 1e-12);
        printf("%s\n",
               failures ? "differs from the notes" : "grad f(1, 2) = (2, 4) as in the notes");
    }
    return failures ? 1 : 0;
}
