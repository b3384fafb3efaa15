/* examples/transfer_learning.c — reuse a CNN's convolutional layers for new classes.
 *
 * A small CNN (conv 3x3 -> ReLU -> max-pool 2, twice, then a linear head) is trained on the
 * images of classes 0-4. Its convolutional layers have learned edge and texture detectors that
 * are useful for clothing in general. For the new task, classes 5-9 with only 100 labelled
 * images, the program copies those layers into a new network, freezes them
 * (nb_module_set_requires_grad(..., false): no gradient, the optimizer skips them), puts a new,
 * randomly initialised head on top and trains only the head. For comparison the same network is
 * trained from scratch on the same 100 images. With so few examples, the pretrained features
 * generalise far better than features learned from the 100 images alone.
 *
 * The convolution and pooling layers are small custom modules around nb_conv2d and
 * nb_max_pool2d, written against the public module API. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/images.h"
#include "common/util.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "transfer_learning",
    .notes = "notes 001 (slides) and 003: transfer learning (1 M images -> 100 images)",
    .summary = "pretrain a CNN on classes 0-4, freeze its convolutions, fine-tune on 100 images "
               "of 5-9",
    .details =
        "1. Trains the CNN conv(1->--c1) -> ReLU -> pool -> conv(->--c2) -> ReLU -> pool ->\n"
        "   Linear(-> 5) on the training images of classes 0-4 (at most --pretrain-n) for\n"
        "   --pretrain-epochs epochs (Adam).\n"
        "2. Transfer: copies the two convolutions into a new network, freezes them, adds a new\n"
        "   head and trains it on --few images of classes 5-9 for --epochs epochs.\n"
        "3. Scratch: the same network, all layers trainable, from a fresh initialisation, on the\n"
        "   same images and epochs.\n"
        "Both are evaluated on every test image of classes 5-9.\n"
        "Data: Fashion-MNIST (Debian's dataset-fashion-mnist, or --data DIR), or --synthetic.\n"
        "4. Control: the same network with random convolutions, frozen, and a new head.\n"
        "--check exits with status 1 unless the frozen layers did not change, only the head was\n"
        "trainable, transfer reaches 50% and beats the control by --min-gain (a fraction).\n",
};

/* ---- Conv2d (3x3, SAME padding) and MaxPool2d (2x2) as modules ---- */

static nb_tensor *conv_forward(nb_module *m, nb_tensor *x)
{
    const nb_conv_opts o = {.padding = NB_PAD_SAME};
    return nb_conv2d(x, nb_module_param(m, "weight"), nb_module_param(m, "bias"), &o);
}

static nb_module *conv3x3_new(int64_t c_in, int64_t c_out, nb_rng *rng)
{
    nb_module *m = nb_module_new("Conv2d", NB_F32, conv_forward, NULL, NULL);
    nb_tensor *w = m ? nb_module_add_param(m, "weight", 4, (int64_t[]){c_out, c_in, 3, 3}) : NULL;
    nb_tensor *b = w ? nb_module_add_param(m, "bias", 1, (int64_t[]){c_out}) : NULL;
    const double bound = 1.0 / sqrt((double)(c_in * 9));
    if (!b || nb_init_kaiming_uniform(w, rng, 0.0, NB_FAN_IN) != NB_OK ||
        nb_init_uniform(b, rng, -bound, bound) != NB_OK) {
        nb_module_free(m);
        return NULL;
    }
    nb_module_set_info(m, "%lld -> %lld, 3x3", (long long)c_in, (long long)c_out);
    return m;
}

static nb_tensor *pool_forward(nb_module *m, nb_tensor *x)
{
    (void)m;
    return nb_max_pool2d(x, 2, 2, NULL);
}

static nb_module *pool_new(void)
{
    return nb_module_new("MaxPool2d", NB_F32, pool_forward, NULL, NULL);
}

static nb_tensor *gap_forward(nb_module *m, nb_tensor *x)
{
    (void)m;
    return nb_global_avg_pool(x); /* [N, C, H, W] -> [N, C] */
}

/* children: 0 conv, 1 ReLU, 2 pool, 3 conv, 4 ReLU, 5 pool, 6 flatten or global average
 * pool, 7 head */
static nb_module *cnn_new(int64_t c1, int64_t c2, bool gap, nb_rng *rng)
{
    nb_module *m6 =
        gap ? nb_module_new("GlobalAvgPool", NB_F32, gap_forward, NULL, NULL) : nb_flatten_new();
    return nb_sequential_new(8,
                             (nb_module *[]){conv3x3_new(1, c1, rng), nb_relu_new(), pool_new(),
                                             conv3x3_new(c1, c2, rng), nb_relu_new(), pool_new(),
                                             m6, nb_linear_new(gap ? c2 : c2 * 49, 5, true, rng)});
}

/* Samples of ds whose label is in [lo, lo + 5), labels shifted to 0..4; at most max (0: all). */
static nb_status class_subset(const nb_dataset *ds, int64_t lo, int64_t max, nb_dataset *out)
{
    const int64_t n = nb_dataset_size(ds);
    int64_t *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx), k = 0;
    if (!idx)
        return nb_set_error(NB_ERR_NOMEM, "class_subset: out of memory");
    const int64_t *y = nb_tensor_data_i64(ds->y);
    for (int64_t i = 0; i < n && (max == 0 || k < max); i++)
        if (y[i] >= lo && y[i] < lo + 5)
            idx[k++] = i;
    nb_status st = nb_dataset_subset(ds, idx, k, out);
    free(idx);
    if (st == NB_OK) {
        int64_t *oy = nb_tensor_data_i64(out->y);
        for (int64_t i = 0; i < k; i++)
            oy[i] -= lo;
        out->n_classes = 5;
        out->class_names = ds->class_names ? ds->class_names + lo : NULL;
    }
    return st;
}

/* Adam on every trainable parameter of net; returns the mean loss of the last epoch. */
static double fit(nb_module *net, const nb_dataset *ds, int epochs, int64_t batch, double lr,
                  uint64_t seed, const char *label)
{
    nb_adam_opts ao = nb_adam_defaults();
    ao.lr = lr;
    nb_optim *opt = nb_adam_new(net, &ao);
    nb_step *step = nb_step_new();
    nb_batcher *it =
        nb_batcher_new(ds, &(nb_batch_opts){.batch_size = batch, .shuffle = true, .seed = seed});
    nb_status st = (opt && step && it) ? NB_OK : nb_last_status();
    double mean = NAN;
    for (int ep = 0; ep < epochs && st == NB_OK; ep++) {
        nb_loop_result r;
        st = nb_train_epoch(net, opt, it, step, NULL, &r);
        mean = r.loss;
        if (ep == 0 || ep == epochs - 1 || (ep + 1) % 10 == 0)
            printf("  %-10s epoch %3d  mean loss %.4f\n", label, ep + 1, mean);
    }
    nb_batcher_free(it);
    nb_step_free(step);
    nb_optim_free(opt);
    return st == NB_OK ? mean : NAN;
}

int main(int argc, char **argv)
{
    int c1 = 8, c2 = 16, pretrain_n = 0, pretrain_epochs = 2, few = 100, epochs = 30;
    int max_samples = 0, n_synth = 3000;
    double lr = 0.003, min_gain = 0.0;
    uint64_t seed = 1;
    const char *data_dir = NULL;
    bool synthetic = false, check = false, gap = false;
    ex_opt opts[] = {
        {"gap-head", EX_OPT_FLAG, &gap,
         "global average pooling before the head (default: flatten)"},
        {"c1", EX_OPT_INT, &c1, "channels of the first convolution"},
        {"c2", EX_OPT_INT, &c2, "channels of the second convolution"},
        {"pretrain-n", EX_OPT_INT, &pretrain_n, "images of classes 0-4 for pretraining (0: all)"},
        {"pretrain-epochs", EX_OPT_INT, &pretrain_epochs, "pretraining epochs"},
        {"few", EX_OPT_INT, &few, "labelled images of classes 5-9 for the new task"},
        {"epochs", EX_OPT_INT, &epochs, "epochs on those images (transfer and scratch)"},
        {"lr", EX_OPT_DOUBLE, &lr, "Adam learning rate"},
        {"data", EX_OPT_STRING, &data_dir, "Fashion-MNIST directory (default: Debian's)"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of Fashion-MNIST"},
        {"limit", EX_OPT_INT, &max_samples,
         "use at most N images per split (0: all); with --synthetic: generate N training images "
         "and a third as many test images (0: 3000)"},
        {"seed", EX_OPT_U64, &seed, "seed of the weights, the subsets and the batches"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless transfer behaves as explained"},
        {"min-gain", EX_OPT_DOUBLE, &min_gain,
         "accuracy transfer must add over the random control"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (synthetic && max_samples > 0) /* --limit: how many to generate */
        n_synth = max_samples;
    if (c1 < 1 || c2 < 1 || pretrain_n < 0 || pretrain_epochs < 1 || few < 5 || epochs < 1 ||
        lr <= 0 || max_samples < 0 || n_synth < 100)
        return ex_usage_error(&PROG, "need positive --c1, --c2, --pretrain-epochs, --epochs, "
                                     "--lr, --few >= 5, --limit (with --synthetic) >= 100");

    nb_dataset train, test, src = {0}, src_test = {0}, few_ds = {0}, target_test = {0};
    if (ex_load_images(PROG.name,
                       &(ex_data_opts){.dir = data_dir,
                                       .synthetic = synthetic,
                                       .limit = synthetic ? n_synth : max_samples,
                                       .test_limit = synthetic ? n_synth / 3 : max_samples,
                                       .seed = seed,
                                       .layout = NB_LAYOUT_NCHW},
                       &train, &test, NULL, 0) != NB_OK)
        return 1;
    int status = 0;
    nb_rng rng = nb_rng_seed(seed);
    nb_module *pre = cnn_new(c1, c2, gap, &rng), *tl = cnn_new(c1, c2, gap, &rng);
    nb_module *scratch = cnn_new(c1, c2, gap, &rng), *rnd = cnn_new(c1, c2, gap, &rng);
    nb_tensor *frozen_before = NULL;
    if (!pre || !tl || !scratch || !rnd || class_subset(&train, 0, pretrain_n, &src) != NB_OK ||
        class_subset(&train, 5, few, &few_ds) != NB_OK ||
        class_subset(&test, 5, 0, &target_test) != NB_OK) {
        status = ex_fail(PROG.name, "setup");
        goto done;
    }
    printf(
        "Transfer learning: a CNN conv(1->%d) ReLU pool, conv(%d->%d) ReLU pool, Linear(%d->5).\n"
        "Source task: classes 0-4, %lld images. Target task: classes 5-9 with only %lld "
        "labelled\nimages; %lld test images of classes 5-9. Adam lr %g.\n\n",
        c1, c1, c2, c2 * 49, (long long)nb_dataset_size(&src), (long long)nb_dataset_size(&few_ds),
        (long long)nb_dataset_size(&target_test), lr);

    /* 1. Pretrain on classes 0-4. */
    printf("1. pretraining on classes 0-4\n");
    if (isnan(fit(pre, &src, pretrain_epochs, 64, lr, seed + 1, "pretrain"))) {
        status = ex_fail(PROG.name, "pretraining");
        goto done;
    }
    if (class_subset(&test, 0, 0, &src_test) != NB_OK) {
        status = ex_fail(PROG.name, "test subset");
        goto done;
    }
    printf("  accuracy on the %lld test images of classes 0-4: %.2f%%\n",
           (long long)nb_dataset_size(&src_test),
           100 * ex_classifier_accuracy(pre, &src_test, 500));

    /* 2. Copy the convolutions, freeze them, new head (tl's own random "7"). */
    const char *body[4] = {"0.weight", "0.bias", "3.weight", "3.bias"};
    for (int k = 0; k < 4; k++)
        if (nb_tensor_copy_into(nb_module_param(tl, body[k]), nb_module_param(pre, body[k])) !=
            NB_OK) {
            status = ex_fail(PROG.name, "copying the convolutions");
            goto done;
        }
    nb_module_set_requires_grad(nb_module_child(tl, "0"), false);
    nb_module_set_requires_grad(nb_module_child(tl, "3"), false);
    frozen_before = nb_tensor_copy(nb_module_param(tl, "3.weight"));
    printf("\n2. transfer: convolutions copied and frozen, new head; trainable parameters %lld "
           "of %lld\n",
           (long long)nb_module_num_trainable_params(tl), (long long)nb_module_num_params(tl));
    if (!frozen_before || isnan(fit(tl, &few_ds, epochs, 20, lr, seed + 2, "transfer"))) {
        status = ex_fail(PROG.name, "fine-tuning");
        goto done;
    }
    printf("\n3. scratch: the same network, every layer trainable (%lld parameters)\n",
           (long long)nb_module_num_trainable_params(scratch));
    if (isnan(fit(scratch, &few_ds, epochs, 20, lr, seed + 2, "scratch"))) {
        status = ex_fail(PROG.name, "training from scratch");
        goto done;
    }

    nb_module_set_requires_grad(nb_module_child(rnd, "0"), false);
    nb_module_set_requires_grad(nb_module_child(rnd, "3"), false);
    printf("\n4. control: random convolutions, frozen, new head (is it the pretraining that "
           "helps?)\n");
    if (isnan(fit(rnd, &few_ds, epochs, 20, lr, seed + 2, "random"))) {
        status = ex_fail(PROG.name, "training the control");
        goto done;
    }

    const double acc_tl = ex_classifier_accuracy(tl, &target_test, 500);
    const double acc_rnd = ex_classifier_accuracy(rnd, &target_test, 500);
    const double acc_sc = ex_classifier_accuracy(scratch, &target_test, 500);
    const double changed =
        nb_tensor_allclose(nb_module_param(tl, "3.weight"), frozen_before, 0, 0) ? 0.0 : 1.0;
    const int64_t head_params = nb_module_num_params(nb_module_child(tl, "7"));
    printf("\naccuracy on the %lld test images of classes 5-9 (chance 20%%), trained on %lld:\n",
           (long long)nb_dataset_size(&target_test), (long long)nb_dataset_size(&few_ds));
    printf("  transfer (frozen pretrained convolutions + new head)  %6.2f%%\n", 100 * acc_tl);
    printf("  from scratch (every layer trained on the %3lld images) %6.2f%%\n",
           (long long)nb_dataset_size(&few_ds), 100 * acc_sc);
    printf("  frozen random convolutions + new head (control)       %6.2f%%\n", 100 * acc_rnd);
    printf("  frozen convolution weights %s during fine-tuning\n",
           changed == 0 ? "unchanged" : "CHANGED");

    if (check) {
        int failures = 0;
        printf("\n");
        failures += !ex_check("frozen weights changed", changed, 0, 0);
        failures += !ex_check("trainable = head parameters",
                              (double)nb_module_num_trainable_params(tl), (double)head_params, 0);
        const bool ok = acc_tl >= acc_rnd + min_gain;
        printf("  check transfer %.2f%% >= frozen random %.2f%% + %.0f points: %s\n", 100 * acc_tl,
               100 * acc_rnd, 100 * min_gain, ok ? "ok" : "MISMATCH");
        failures += !ok;
        const bool above_chance = acc_tl >= 0.5;
        printf("  check transfer %.2f%% >= 50%% (chance 20%%): %s\n", 100 * acc_tl,
               above_chance ? "ok" : "MISMATCH");
        failures += !above_chance;
        printf("%s\n", failures ? "transfer did not behave as expected"
                                : "the pretrained features transfer");
        status = failures ? 1 : 0;
    }

done:
    nb_tensor_free(frozen_before);
    nb_module_free(pre);
    nb_module_free(tl);
    nb_module_free(scratch);
    nb_module_free(rnd);
    nb_dataset_deinit(&src);
    nb_dataset_deinit(&src_test);
    nb_dataset_deinit(&few_ds);
    nb_dataset_deinit(&target_test);
    nb_dataset_deinit(&train);
    nb_dataset_deinit(&test);
    return status;
}
