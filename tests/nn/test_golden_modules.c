/* tests/nn/test_golden_modules.c — nabla's attention, Transformer and normalisation modules
 * against PyTorch 1.13 (fixtures of scripts/golden_modules.py in tests/golden_modules/): the
 * PyTorch parameters are loaded into the nabla module by the name mapping of docs/transformer.md,
 * and the output and the gradients of every parameter and input (backward of sum(out * dout))
 * must match to 1e-10 in float64; for InstanceNorm with running statistics also the buffers after
 * a second training forward and the eval-mode output they give. Every fixture folder must have a
 * case here and vice versa. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "support/nbt.h"

enum kind { MHA, ENCODER, DECODER, LAYER_NORM, GROUP_NORM, INSTANCE_NORM1D, INSTANCE_NORM2D };

typedef struct {
    const char *name;
    enum kind kind;
    bool causal, post_norm, affine;
    bool running; /* InstanceNorm: track_running_stats */
    nb_ff_activation act;
    int64_t groups, channels; /* GroupNorm */
    double eps;               /* norms; 0: the default */
    double momentum;          /* InstanceNorm with running statistics; 0: the default */
} golden_case;

static const golden_case cases[] = {
    {.name = "mha_self_padding", .kind = MHA},
    {.name = "mha_cross", .kind = MHA},
    {.name = "mha_causal", .kind = MHA, .causal = true},
    {.name = "encoder_prenorm", .kind = ENCODER, .act = NB_FF_GELU_TANH},
    {.name = "encoder_postnorm",
     .kind = ENCODER,
     .causal = true,
     .post_norm = true,
     .act = NB_FF_RELU},
    {.name = "encoder_prenorm_gelu", .kind = ENCODER, .causal = true, .act = NB_FF_GELU},
    {.name = "decoder_prenorm", .kind = DECODER, .causal = true, .act = NB_FF_GELU},
    {.name = "decoder_postnorm",
     .kind = DECODER,
     .causal = true,
     .post_norm = true,
     .act = NB_FF_RELU},
    {.name = "layer_norm", .kind = LAYER_NORM},
    {.name = "group_norm", .kind = GROUP_NORM, .groups = 3, .channels = 6},
    {.name = "group_norm_1d", .kind = GROUP_NORM, .groups = 2, .channels = 4, .eps = 1e-3},
    {.name = "instance_norm2d", .kind = INSTANCE_NORM2D},
    {.name = "instance_norm2d_affine", .kind = INSTANCE_NORM2D, .affine = true},
    {.name = "instance_norm1d_affine", .kind = INSTANCE_NORM1D, .affine = true, .eps = 1e-4},
    {.name = "instance_norm1d_running", .kind = INSTANCE_NORM1D, .running = true},
    {.name = "instance_norm2d_running_affine",
     .kind = INSTANCE_NORM2D,
     .affine = true,
     .running = true,
     .eps = 1e-3,
     .momentum = 0.3},
};
#define N_CASES (sizeof cases / sizeof cases[0])
enum { D = 8, HEADS = 2, FF = 12 }; /* the sizes of scripts/golden_modules.py */

/* tests/golden_modules, next to this file's folder. */
static const char *golden_dir(void)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    for (int i = 0; i < 2; i++) { /* .../tests/nn/test_golden_modules.c -> .../tests */
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
    }
    strncat(dir, "/golden_modules", sizeof dir - strlen(dir) - 1);
    return dir;
}

/* The fixture <case>/<file>.npy, or NULL when it does not exist and is optional. */
static nb_tensor *load(const char *name, const char *file, bool optional)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/%s.npy", golden_dir(), name, file);
    FILE *f = fopen(path, "rb");
    if (!f && optional)
        return NULL;
    if (f)
        fclose(f);
    nb_tensor *t = nb_npy_load(path);
    if (!t)
        print_error("%s: %s\n", path, nb_last_error());
    assert_non_null(t);
    return t;
}

/* nabla parameter path -> PyTorch state_dict name; *third is which third of the packed
 * in_proj_weight / in_proj_bias (q, k, v) the parameter is, -1 for an unpacked one. */
static void torch_name(const char *path, char *out, size_t n, int *third)
{
    static const char *const prefixes[][2] = {
        {"attn.", "self_attn."}, {"cross.", "multihead_attn."},
        {"ln1.", "norm1."},      {"ln2.", "norm2."},
        {"ln3.", "norm3."},      {"ff1.", "linear1."},
        {"ff2.", "linear2."}};
    const char *prefix = "", *rest = path;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (!strncmp(path, prefixes[i][0], strlen(prefixes[i][0]))) {
            prefix = prefixes[i][1];
            rest = path + strlen(prefixes[i][0]);
        }
    const char *qkv = strchr("qkv", rest[0]);
    *third = -1;
    if (rest[0] && qkv && rest[1] == '.') {
        *third = (int)(qkv - "qkv");
        snprintf(out, n, "%sin_proj_%s", prefix, rest + 2);
    } else if (!strncmp(rest, "out.", 4)) {
        snprintf(out, n, "%sout_proj.%s", prefix, rest + 4);
    } else {
        snprintf(out, n, "%s%s", prefix, rest);
    }
}

/* got vs want[offset .. offset + numel(got)) to 1e-10 relative (and absolute near 0). */
static void compare(const char *c, const char *what, const nb_tensor *got, const nb_tensor *want,
                    int64_t offset)
{
    if (!got)
        print_error("%s %s: %s\n", c, what, nb_last_error());
    assert_non_null(got);
    assert_true(offset + nb_tensor_numel(got) <= nb_tensor_numel(want));
    for (int64_t i = 0; i < nb_tensor_numel(got); i++) {
        const double g = nb_tensor_get(got, i), w = nb_tensor_get(want, offset + i);
        if (!(fabs(g - w) <= 1e-10 * (1 + fabs(w)))) {
            print_error("%s %s[%lld]: nabla %.17g, PyTorch %.17g\n", c, what, (long long)i, g, w);
            fail();
        }
    }
}

/* After the training forward on x: a second one on x2, then the running statistics against
 * PyTorch's buffers and the eval-mode output on eval_x, which uses them. */
static void check_running_stats(const golden_case *c, nb_module *m, nb_step *s)
{
    nb_tensor *x2 = load(c->name, "x2", false), *eval_x = load(c->name, "eval_x", false);
    nb_tensor *mean = load(c->name, "b.running_mean", false);
    nb_tensor *var = load(c->name, "b.running_var", false);
    nb_tensor *want = load(c->name, "eval_out", false);
    assert_int_equal(nb_step_begin(s), NB_OK);
    assert_true(nb_module_is_training(m));
    assert_non_null(nb_module_forward(m, x2));
    compare(c->name, "running_mean", nb_module_buffer(m, "running_mean"), mean, 0);
    compare(c->name, "running_var", nb_module_buffer(m, "running_var"), var, 0);
    nb_module_train(m, false);
    compare(c->name, "eval out", nb_module_forward(m, eval_x), want, 0);
    /* eval mode leaves the statistics alone */
    compare(c->name, "running_mean after eval", nb_module_buffer(m, "running_mean"), mean, 0);
    compare(c->name, "running_var after eval", nb_module_buffer(m, "running_var"), var, 0);
    nb_step_end(s);
    nb_tensor_free(x2), nb_tensor_free(eval_x), nb_tensor_free(mean), nb_tensor_free(var);
    nb_tensor_free(want);
}

static nb_module *build(const golden_case *c)
{
    nb_rng rng = nb_rng_seed(1);
    const nb_norm_layer_opts no = {.eps = c->eps,
                                   .momentum = c->momentum,
                                   .dtype = NB_F64,
                                   .affine = c->affine,
                                   .track_running_stats = c->running};
    const nb_transformer_opts to = {.d_model = D,
                                    .heads = HEADS,
                                    .d_ff = FF,
                                    .causal = c->causal,
                                    .post_norm = c->post_norm,
                                    .dtype = NB_F64,
                                    .activation = c->act};
    switch (c->kind) {
    case MHA:
        return nb_mha_new(D, HEADS, c->causal, &rng, NB_F64);
    case ENCODER:
        return nb_transformer_layer_new(&to, &rng);
    case DECODER:
        return nb_transformer_decoder_layer_new(&to, &rng);
    case LAYER_NORM:
        return nb_layer_norm_new(2, (const int64_t[]){4, 5}, &no);
    case GROUP_NORM:
        return nb_group_norm_new(c->groups, c->channels, &no);
    case INSTANCE_NORM1D:
        return nb_instance_norm1d_new(3, &no);
    case INSTANCE_NORM2D:
        return nb_instance_norm2d_new(4, &no);
    }
    return NULL;
}

/* Runs one case; returns how many PyTorch parameter tensors its parameters were loaded from. */
static int run_case(const golden_case *c)
{
    nb_module *m = build(c);
    if (!m)
        print_error("%s: %s\n", c->name, nb_last_error());
    assert_non_null(m);
    nb_named_tensor params[32];
    const int n_params = nb_module_named_params(m, params, 32);
    assert_true(n_params >= 0 && n_params <= 32);
    char tname[128], file[160];
    int third;
    int64_t torch_params = 0; /* distinct PyTorch tensors the nabla parameters came from */
    for (int i = 0; i < n_params; i++) {
        torch_name(params[i].name, tname, sizeof tname, &third);
        snprintf(file, sizeof file, "p.%s", tname);
        nb_tensor *p = load(c->name, file, false);
        const int64_t n = nb_tensor_numel(params[i].tensor), off = third > 0 ? third * n : 0;
        assert_true(off + n <= nb_tensor_numel(p));
        for (int64_t j = 0; j < n; j++)
            nb_tensor_set(params[i].tensor, j, nb_tensor_get(p, off + j));
        torch_params += third <= 0;
        nb_tensor_free(p);
    }
    nb_tensor *x = load(c->name, "x", false), *mem = load(c->name, "memory", true);
    nb_tensor *kp = load(c->name, "key_padding", true);
    nb_tensor *mkp = load(c->name, "memory_key_padding", true);
    nb_tensor *am = load(c->name, "attn_mask", true);
    nb_tensor_set_requires_grad(x, true);
    if (mem)
        nb_tensor_set_requires_grad(mem, true);
    nb_step *s = nb_step_new();
    assert_int_equal(nb_step_begin(s), NB_OK);
    nb_module_zero_grad(m);
    const nb_attn_masks self = {.key_padding = kp, .causal = c->causal};
    const nb_attn_masks cross = {.mask = am, .key_padding = mkp};
    nb_tensor *y = NULL;
    if (c->kind == MHA)
        y = mem ? nb_mha_attend_masked(m, x, mem, &cross) : nb_mha_attend_masked(m, x, NULL, &self);
    else if (c->kind == ENCODER)
        y = nb_transformer_layer_forward(m, x, &self);
    else if (c->kind == DECODER)
        y = nb_transformer_decoder_forward(m, x, mem, &self, &cross);
    else
        y = nb_module_forward(m, x);
    nb_tensor *want = load(c->name, "out", false), *dout = load(c->name, "dout", false);
    compare(c->name, "out", y, want, 0);
    assert_int_equal(nb_backward_ex(y, dout), NB_OK);
    for (int i = 0; i < n_params; i++) {
        torch_name(params[i].name, tname, sizeof tname, &third);
        snprintf(file, sizeof file, "g.%s", tname);
        nb_tensor *g = load(c->name, file, false);
        const int64_t n = nb_tensor_numel(params[i].tensor);
        compare(c->name, params[i].name, nb_tensor_grad(params[i].tensor), g,
                third > 0 ? third * n : 0);
        nb_tensor_free(g);
    }
    nb_tensor *gx = load(c->name, "gx", false);
    compare(c->name, "grad x", nb_tensor_grad(x), gx, 0);
    nb_tensor_free(gx);
    if (mem) {
        nb_tensor *gm = load(c->name, "gmemory", false);
        compare(c->name, "grad memory", nb_tensor_grad(mem), gm, 0);
        nb_tensor_free(gm);
    }
    nb_step_end(s);
    if (c->running)
        check_running_stats(c, m, s);
    nb_step_free(s);
    nb_tensor_free(want), nb_tensor_free(dout), nb_tensor_free(x), nb_tensor_free(mem);
    nb_tensor_free(kp), nb_tensor_free(mkp), nb_tensor_free(am);
    nb_module_free(m);
    return (int)torch_params;
}

/* Every case of the MANIFEST (exactly the cases above) matches PyTorch, and its nabla
 * parameters were loaded from every one of PyTorch's parameters. */
static void test_modules_match_pytorch(void **state)
{
    (void)state;
    char path[4200], line[256], name[128];
    snprintf(path, sizeof path, "%s/MANIFEST", golden_dir());
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        int n_params;
        if (line[0] == '#' || sscanf(line, "%127s %d", name, &n_params) != 2)
            continue;
        const golden_case *c = NULL;
        for (size_t i = 0; i < N_CASES; i++)
            if (!strcmp(cases[i].name, name))
                c = &cases[i];
        if (!c)
            print_error("fixture %s has no case in test_golden_modules.c\n", name);
        assert_non_null(c);
        assert_int_equal(run_case(c), n_params);
        n++;
    }
    fclose(f);
    assert_int_equal(n, N_CASES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modules_match_pytorch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
