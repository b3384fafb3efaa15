/* examples/ae_pretrain.c — dimensionality reduction 784 -> 30 with a deep autoencoder, and
 * greedy layer-wise pretraining of its encoder.
 *
 *   autoencoder 784-256-128-64-30-64-128-256-784 (sigmoid inside, linear 30-d code, sigmoid out)
 *
 * Pretraining: encoder layer i (n_i -> n_(i+1)) is trained as a one-layer autoencoder of the
 * output of layers 0 .. i-1, which are frozen (nb_module_set_requires_grad false, so backward
 * stops at them), with a temporary decoder n_(i+1) -> n_i whose weights then initialise the
 * mirrored layer of the deep decoder. Then every layer is unfrozen and the whole stack is
 * fine-tuned end to end. The same network from a random start gets the same fine-tuning
 * epochs; both test reconstruction errors are printed (the pretrained one has also seen the
 * pretraining epochs). Writes PREFIX_recon.png (rows: test images, pretrained + fine-tuned,
 * from scratch) and PREFIX_loss.png / .csv. */
#include <math.h>
#include <stdio.h>

#include "common/cli.h"
#include "common/unsup.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "ae_pretrain",
    .notes = "notes 000 (overview), autoencoders: 28x28 -> 30 numbers -> 28x28; notes 002 (sheet): "
             "pretraining layer by layer",
    .summary = "784 -> 30 deep autoencoder: layer-wise pretraining, freezing, fine-tuning",
    .details = "Data as in autoencoder (--data DIR, --synthetic, --limit).\n"
               "--check exits with status 1 unless every pretraining stage lowered its loss and\n"
               "fine-tuning lowered the test error of both networks.\n",
};

enum { NL = 4 }; /* encoder layers */
static const int64_t SIZES[NL + 1] = {784, 256, 128, 64, 30};

typedef struct settings {
    int batch, pre_epochs, epochs;
    double lr;
    uint64_t seed;
    nb_activation act;
} settings;

/* Loss of pretraining stage i: the frozen prefix maps x to t; the encoder layer i (and its
 * activation, except for the code layer) and the temporary decoder reconstruct t. */
typedef struct stage {
    nb_module *encoder, *tmp_decoder;
    int layer;
} stage;

static nb_tensor *stage_loss(nb_module *model, const nb_batch *b, bool train, void *user)
{
    (void)model, (void)train;
    const stage *s = user;
    int n_children = nb_module_num_children(s->encoder);
    nb_tensor *t = b->x;
    /* encoder children: Linear, act, Linear, act, ..., Linear (no activation on the code) */
    for (int c = 0; c < 2 * s->layer; c++)
        t = nb_module_forward(nb_module_child_at(s->encoder, c), t);
    nb_tensor *h = nb_module_forward(nb_module_child_at(s->encoder, 2 * s->layer), t);
    if (2 * s->layer + 1 < n_children)
        h = nb_module_forward(nb_module_child_at(s->encoder, 2 * s->layer + 1), h);
    return nb_mse(nb_module_forward(s->tmp_decoder, h), nb_detach(t), NB_REDUCE_MEAN);
}

/* Copy src's parameter `name` into dst's. */
static nb_status copy_param(nb_module *dst, nb_module *src, const char *name)
{
    return nb_tensor_copy_into(nb_module_param(dst, name), nb_module_param(src, name));
}

static int pretrain(const settings *st, nb_module *ae, const nb_dataset *train, nb_step *step,
                    nb_curves *curves, int64_t *gstep, bool *all_dropped)
{
    nb_module *enc = nb_autoencoder_encoder(ae), *dec = nb_autoencoder_decoder(ae);
    nb_rng rng = nb_rng_seed(st->seed + 21);
    *all_dropped = true;
    nb_module_set_requires_grad(ae, false);
    for (int i = 0; i < NL; i++) {
        nb_module *lin = nb_module_child_at(enc, 2 * i);
        /* the first stage reconstructs pixels in [0, 1]: sigmoid output; later stages
         * reconstruct hidden activations with the hidden activation */
        nb_module *tmp = nb_mlp_new(2, (int64_t[]){SIZES[i + 1], SIZES[i]}, NB_ACT_NONE,
                                    i == 0 ? NB_ACT_SIGMOID : st->act, &rng, NB_F32);
        nb_module_set_requires_grad(lin, true); /* layers < i stay frozen */
        nb_adam_opts ao = nb_adam_defaults();
        ao.lr = st->lr;
        nb_optim *opt = tmp ? nb_adam_new(tmp, &ao) : NULL;
        if (opt && (nb_optim_add_param(opt, "layer.weight", nb_module_param(lin, "weight")) ||
                    nb_optim_add_param(opt, "layer.bias", nb_module_param(lin, "bias")))) {
            nb_optim_free(opt);
            opt = NULL;
        }
        nb_batcher *it = nb_batcher_new(
            train, &(nb_batch_opts){.batch_size = st->batch, .shuffle = true, .seed = st->seed});
        if (!opt || !it) {
            fprintf(stderr, "%s: stage %d: %s\n", PROG.name, i + 1, nb_last_error());
            nb_batcher_free(it);
            nb_optim_free(opt);
            nb_module_free(tmp);
            return 1;
        }
        stage s = {.encoder = enc, .tmp_decoder = tmp, .layer = i};
        printf("stage %d: layer %lld -> %lld (%lld trainable parameters, %lld frozen)\n", i + 1,
               (long long)SIZES[i], (long long)SIZES[i + 1],
               (long long)(nb_module_num_trainable_params(ae) + nb_module_num_params(tmp)),
               (long long)(nb_module_num_params(ae) - nb_module_num_trainable_params(ae)));
        double first = NAN, last = NAN;
        for (int e = 1; e <= st->pre_epochs; e++) {
            char label[48];
            snprintf(label, sizeof label, "stage %d epoch %d/%d", i + 1, e, st->pre_epochs);
            last = ex_train_epoch(PROG.name, tmp, opt, it, step, stage_loss, &s, label, curves,
                                  "pretrain_loss", gstep);
            if (isnan(last))
                break;
            if (e == 1)
                first = last;
            printf("  epoch %d/%d: reconstruction loss of the layer's input %.5f\n", e,
                   st->pre_epochs, last);
        }
        /* the temporary decoder initialises the mirrored decoder layer */
        nb_module *mirror = nb_module_child_at(dec, 2 * (NL - 1 - i));
        nb_module *tmp_lin = nb_module_child_at(tmp, 0);
        nb_status cs = isnan(last) ? NB_ERR_VALUE : copy_param(mirror, tmp_lin, "weight");
        if (cs == NB_OK)
            cs = copy_param(mirror, tmp_lin, "bias");
        nb_module_set_requires_grad(lin, false); /* frozen for the next stages */
        nb_batcher_free(it);
        nb_optim_free(opt);
        nb_module_free(tmp);
        if (cs != NB_OK)
            return 1;
        if (st->pre_epochs > 1 && !(last < first))
            *all_dropped = false;
    }
    nb_module_set_requires_grad(ae, true);
    return 0;
}

/* Fine-tune every layer of ae for st->epochs; returns the final test MSE (NaN on error). */
static double finetune(const settings *st, const char *name, nb_module *ae, const ex_images *d,
                       nb_step *step, nb_curves *curves, const char *series)
{
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = st->lr;
    nb_optim *opt = nb_adam_new(ae, &ao);
    nb_batcher *it = nb_batcher_new(
        &d->train, &(nb_batch_opts){.batch_size = st->batch, .shuffle = true, .seed = st->seed});
    double test = NAN;
    int64_t gstep = 0;
    if (opt && it) {
        test = ex_evaluate(PROG.name, ae, &d->test, 256, step, ex_loss_mse, NULL);
        printf("%s: test MSE %.5f before fine-tuning\n", name, test);
        for (int e = 1; e <= st->epochs && !isnan(test); e++) {
            char label[64];
            snprintf(label, sizeof label, "%s epoch %d/%d", name, e, st->epochs);
            double tr = ex_train_epoch(PROG.name, ae, opt, it, step, ex_loss_mse, NULL, label,
                                       curves, series, &gstep);
            test = isnan(tr) ? NAN
                             : ex_evaluate(PROG.name, ae, &d->test, 256, step, ex_loss_mse, NULL);
            printf("%s: epoch %d/%d  train MSE %.5f  test MSE %.5f\n", name, e, st->epochs, tr,
                   test);
        }
    } else {
        fprintf(stderr, "%s: %s: %s\n", PROG.name, name, nb_last_error());
    }
    nb_batcher_free(it);
    nb_optim_free(opt);
    return test;
}

int main(int argc, char **argv)
{
    settings st = {.batch = 64, .pre_epochs = 1, .epochs = 5, .lr = 1e-3, .seed = 1};
    int limit = 0, test_limit = 0, show = 10;
    bool synthetic = false, check = false, relu = false;
    const char *data = NULL, *out = "ae_pretrain";
    ex_opt opts[] = {
        {"pretrain-epochs", EX_OPT_INT, &st.pre_epochs, "epochs per pretraining stage"},
        {"epochs", EX_OPT_INT, &st.epochs, "fine-tuning epochs (both networks)"},
        {"batch", EX_OPT_INT, &st.batch, "minibatch size"},
        {"lr", EX_OPT_DOUBLE, &st.lr, "Adam learning rate"},
        {"relu", EX_OPT_FLAG, &relu, "ReLU instead of sigmoid between layers"},
        {"limit", EX_OPT_INT, &limit, "use only the first N training images (0: all)"},
        {"test-limit", EX_OPT_INT, &test_limit, "use only the first N test images (0: all)"},
        {"data", EX_OPT_STRING, &data, "directory with MNIST-format IDX files"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of a dataset"},
        {"show", EX_OPT_INT, &show, "test images in the reconstruction PNG"},
        {"out", EX_OPT_STRING, &out, "prefix of the output files"},
        {"seed", EX_OPT_U64, &st.seed, "seed of the weights and the batch order"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless pretraining and fine-tuning lower losses"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (st.pre_epochs < 1 || st.epochs < 1 || st.batch < 1 || limit < 0 || test_limit < 0 ||
        show < 1 || !(st.lr > 0))
        return ex_usage_error(&PROG, "epochs, batch and show must be >= 1, limits >= 0, lr > 0");
    st.act = relu ? NB_ACT_RELU : NB_ACT_SIGMOID;

    ex_images d;
    if (!ex_images_load(PROG.name, data, synthetic, limit, test_limit, st.seed, &d))
        return 1;
    printf("ae_pretrain: %s, %lld training and %lld test images\n", d.source,
           (long long)nb_dataset_size(&d.train), (long long)nb_dataset_size(&d.test));
    nb_autoencoder_opts o = nb_autoencoder_defaults();
    o.hidden = st.act;
    nb_rng r1 = nb_rng_seed(st.seed), r2 = nb_rng_seed(st.seed + 1);
    nb_module *pre = nb_autoencoder_new(NL + 1, SIZES, &o, &r1);
    nb_module *scratch = nb_autoencoder_new(NL + 1, SIZES, &o, &r2);
    nb_step *step = nb_step_new();
    nb_curves *curves = nb_curves_new();
    int rc = 0;
    if (!pre || !scratch || !step || !curves) {
        fprintf(stderr, "%s: setup: %s\n", PROG.name, nb_last_error());
        rc = 1;
        goto done;
    }
    printf("autoencoder 784-256-128-64-30 (mirrored), %s inside, linear code, Adam lr %g, batch "
           "%d\n",
           nb_activation_name(st.act), st.lr, st.batch);
    int64_t gstep = 0;
    bool dropped = true;
    printf("greedy layer-wise pretraining, %d epoch(s) per layer\n", st.pre_epochs);
    if (pretrain(&st, pre, &d.train, step, curves, &gstep, &dropped)) {
        rc = 1;
        goto done;
    }
    double t0 = ex_evaluate(PROG.name, scratch, &d.test, 256, step, ex_loss_mse, NULL);
    double a = finetune(&st, "pretrained", pre, &d, step, curves, "finetune_pretrained");
    double b = finetune(&st, "from scratch", scratch, &d, step, curves, "train_from_scratch");
    if (isnan(a) || isnan(b) || isnan(t0)) {
        rc = 1;
        goto done;
    }
    printf("30-d code, test MSE after %d fine-tuning epochs: %.5f pretrained, %.5f from scratch "
           "(untrained: %.5f)\n",
           st.epochs, a, b, t0);

    char path[1024];
    nb_tensor *x = ex_first_rows(&d.test, show), *ra = NULL, *rb = NULL;
    if (x) {
        ra = ex_forward_copy(pre, x);
        rb = ex_forward_copy(scratch, x);
    }
    if (!ra || !rb ||
        !ex_write_rows_png(PROG.name, ex_path(path, sizeof path, out, "_recon.png"),
                           (nb_tensor *[]){x, ra, rb}, 3,
                           "784-30 autoencoder: pretrained vs from scratch",
                           (const char *const[]){"test image", "pretrained", "from scratch"},
                           "both fine-tuned for the same epochs; first test images"))
        rc = 1;
    else
        printf("wrote %s (rows: test images, pretrained + fine-tuned, from scratch)\n", path);
    nb_tensor_free(x);
    nb_tensor_free(ra);
    nb_tensor_free(rb);
    nb_plot_opts po = {.title = "deep autoencoder 784-30", .ylabel = "MSE", .log_y = true};
    if (nb_curves_write_csv(curves, ex_path(path, sizeof path, out, "_loss.csv")) != NB_OK ||
        nb_curves_write_png(curves, ex_path(path, sizeof path, out, "_loss.png"), &po) != NB_OK) {
        fprintf(stderr, "%s: writing curves: %s\n", PROG.name, nb_last_error());
        rc = 1;
    }
    if (check && !(dropped && a < t0 && b < t0)) {
        printf("check failed: a pretraining stage or fine-tuning did not lower its loss\n");
        rc = 1;
    }
done:
    nb_curves_free(curves);
    nb_step_free(step);
    nb_module_free(pre);
    nb_module_free(scratch);
    ex_images_free(&d);
    return rc;
}
