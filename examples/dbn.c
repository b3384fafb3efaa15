/* examples/dbn.c — a deep belief net 784-500-500 pretrained greedily, then fine-tuned as a
 * classifier on few labels, compared with the same network trained from a random start.
 *
 *   1. RBM 784 -> 500 trained by CD-1 on the training images (no labels);
 *   2. RBM 500 -> 500 trained on the first RBM's hidden probabilities p(h | v);
 *   3. the stack becomes an MLP: Linear(784, 500) + sigmoid + Linear(500, 500) + sigmoid with
 *      the RBMs' weights and hidden biases, plus a softmax classifier Linear(500, 10);
 *   4. fine-tuning by backpropagation (cross-entropy, SGD with momentum) on --labels labelled
 *      training images; the same MLP from PyTorch's default initialisation gets the same
 *      fine-tuning. Both test accuracies are printed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/cli.h"
#include "common/unsup.h"
#include "nabla.h"

static const ex_program PROG = {
    .name = "dbn",
    .notes = "notes 000 (overview), deep belief nets: greedy pretraining, then a few labels; notes "
             "002 (sheet): RBM / DBN",
    .summary = "deep belief net: greedy RBM pretraining, then fine-tuning on few labels",
    .details =
        "Data: Fashion-MNIST (dataset-fashion-mnist); --data DIR reads MNIST-format files from\n"
        "DIR, --synthetic generates images. Pretraining uses the (unlabelled) training images,\n"
        "--pretrain-limit of them; fine-tuning uses --labels images drawn at random from the\n"
        "training set with their labels. Gray levels are used as probabilities.\n"
        "--check exits with status 1 unless each RBM's reconstruction error fell during\n"
        "pretraining and the pretrained network's training loss fell during fine-tuning.\n",
};

typedef struct settings {
    int h1, h2, pre_epochs, batch, ft_epochs, ft_batch, every;
    double pre_lr, ft_lr;
    uint64_t seed;
} settings;

/* Greedy step: train one RBM on the rows of x; returns first and last epoch reconstruction. */
static int pretrain(const settings *s, nb_module *rbm, nb_tensor *x, const char *name,
                    double *first, double *last)
{
    nb_dataset ds = {.x = x};
    nb_batcher *it = nb_batcher_new(
        &ds, &(nb_batch_opts){
                 .batch_size = s->batch, .shuffle = true, .seed = s->seed, .last = NB_LAST_DROP});
    nb_rbm_train_opts o = nb_rbm_train_defaults();
    o.lr = s->pre_lr;
    o.seed = s->seed + 3;
    nb_rbm_trainer *tr = nb_rbm_trainer_new(rbm, &o);
    int rc = 0;
    if (!it || !tr) {
        fprintf(stderr, "dbn: %s: %s\n", name, nb_last_error());
        rc = 1;
    }
    for (int e = 1; !rc && e <= s->pre_epochs; e++) {
        if (e == 6)
            nb_rbm_trainer_set_momentum(tr, 0.9);
        char label[64];
        snprintf(label, sizeof label, "%s epoch %d/%d", name, e, s->pre_epochs);
        nb_progress *bar = nb_progress_new(label, nb_batcher_num_batches(it), NULL);
        nb_batch b;
        double sum = 0;
        int64_t n = 0;
        while (nb_batcher_next(it, &b)) {
            nb_rbm_update_stats st;
            if (nb_rbm_trainer_update(tr, b.x, &st) != NB_OK) {
                fprintf(stderr, "dbn: %s: %s\n", name, nb_last_error());
                rc = 1;
                break;
            }
            sum += st.recon_error;
            n++;
            nb_progress_advance(bar, b.size, st.recon_error);
        }
        nb_progress_finish(bar);
        nb_progress_free(bar);
        double r = sum / (double)(n ? n : 1);
        if (e == 1)
            *first = r;
        *last = r;
        printf("  %s epoch %d/%d: reconstruction error %.3f\n", name, e, s->pre_epochs, r);
    }
    nb_rbm_trainer_free(tr);
    nb_batcher_free(it);
    return rc;
}

static double accuracy(nb_module *net, const nb_dataset *ds, nb_step *step)
{
    int64_t N = nb_dataset_size(ds), correct = 0;
    bool was = nb_set_grad_enabled(false);
    for (int64_t s = 0; s < N; s += 500) {
        int64_t e = s + 500 < N ? s + 500 : N;
        nb_step_begin(step);
        nb_tensor *pred = nb_argmax(nb_module_forward(net, nb_slice(ds->x, 0, s, e, 1)), 1);
        if (!pred) {
            nb_step_end(step);
            nb_set_grad_enabled(was);
            return NAN;
        }
        for (int64_t i = 0; i < e - s; i++)
            correct += nb_tensor_get(pred, i) == nb_tensor_get(ds->y, s + i);
        nb_step_end(step);
    }
    nb_set_grad_enabled(was);
    return N ? (double)correct / (double)N : NAN;
}

typedef struct run {
    const char *name;
    nb_module *net;
    nb_optim *opt;
    double first_loss, last_loss, acc;
} run;

/* One fine-tuning epoch over the labelled images; returns the mean loss (NaN on error). */
static double finetune_epoch(run *r, nb_batcher *it, nb_step *step)
{
    nb_batch b;
    double sum = 0;
    int64_t n = 0;
    while (nb_batcher_next(it, &b)) {
        nb_step_begin(step);
        nb_optim_zero_grad(r->opt);
        nb_tensor *loss = nb_cross_entropy(nb_module_forward(r->net, b.x), b.y, NB_REDUCE_MEAN);
        nb_status st = loss ? nb_backward(loss) : nb_last_status();
        if (st == NB_OK)
            st = nb_optim_update(r->opt);
        double v = st == NB_OK ? nb_tensor_item(loss) : NAN;
        nb_step_end(step);
        if (st != NB_OK) {
            fprintf(stderr, "dbn: fine-tuning %s: %s\n", r->name, nb_last_error());
            return NAN;
        }
        sum += v;
        n++;
    }
    return sum / (double)(n ? n : 1);
}

int main(int argc, char **argv)
{
    settings s = {.h1 = 500,
                  .h2 = 500,
                  .pre_epochs = 5,
                  .batch = 64,
                  .ft_epochs = 30,
                  .ft_batch = 32,
                  .every = 5,
                  .pre_lr = 0.1,
                  .ft_lr = 0.05,
                  .seed = 1};
    int labels = 1000, pre_limit = 0, test_limit = 0;
    bool synthetic = false, check = false;
    const char *data = NULL;
    ex_opt opts[] = {
        {"hidden1", EX_OPT_INT, &s.h1, "hidden units of the first RBM"},
        {"hidden2", EX_OPT_INT, &s.h2, "hidden units of the second RBM"},
        {"pretrain-epochs", EX_OPT_INT, &s.pre_epochs, "CD-1 epochs per RBM"},
        {"pretrain-lr", EX_OPT_DOUBLE, &s.pre_lr, "RBM learning rate"},
        {"pretrain-limit", EX_OPT_INT, &pre_limit, "training images for pretraining (0: all)"},
        {"batch", EX_OPT_INT, &s.batch, "pretraining minibatch size"},
        {"labels", EX_OPT_INT, &labels, "labelled training images for fine-tuning"},
        {"finetune-epochs", EX_OPT_INT, &s.ft_epochs, "fine-tuning epochs"},
        {"finetune-lr", EX_OPT_DOUBLE, &s.ft_lr, "fine-tuning SGD learning rate (momentum 0.9)"},
        {"finetune-batch", EX_OPT_INT, &s.ft_batch, "fine-tuning minibatch size"},
        {"every", EX_OPT_INT, &s.every, "print fine-tuning progress every N epochs"},
        {"test-limit", EX_OPT_INT, &test_limit, "use only the first N test images (0: all)"},
        {"data", EX_OPT_STRING, &data, "directory with MNIST-format IDX files"},
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of a dataset"},
        {"seed", EX_OPT_U64, &s.seed, "seed of weights, batches, sampling and the label subset"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless pretraining and fine-tuning lower losses"},
    };
    ex_args_result ar =
        ex_parse_args(&PROG, opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (s.h1 < 1 || s.h2 < 1 || s.pre_epochs < 1 || s.batch < 1 || labels < 1 || s.ft_epochs < 1 ||
        s.ft_batch < 1 || s.every < 1 || pre_limit < 0 || test_limit < 0 || !(s.pre_lr > 0) ||
        !(s.ft_lr > 0))
        return ex_usage_error(&PROG, "sizes, epochs and batches must be >= 1, learning rates > 0");

    ex_images d;
    if (!ex_images_load(PROG.name, data, synthetic, pre_limit, test_limit, s.seed, &d))
        return 1;
    const int64_t N = nb_dataset_size(&d.train);
    if (labels > N)
        labels = (int)N;
    printf("dbn: %s; pretraining on %lld images, fine-tuning on %d labelled images, testing on "
           "%lld\n",
           d.source, (long long)N, labels, (long long)nb_dataset_size(&d.test));

    int rc = 0;
    nb_rng rng = nb_rng_seed(s.seed);
    nb_module *rbm1 = nb_rbm_new(784, s.h1, NB_RBM_BERNOULLI, &rng);
    nb_module *rbm2 = nb_rbm_new(s.h1, s.h2, NB_RBM_BERNOULLI, &rng);
    nb_tensor *h1 = NULL;
    nb_dataset lab = {0};
    nb_batcher *its[2] = {NULL, NULL};
    nb_step *step = nb_step_new();
    run runs[2] = {{.name = "pretrained"}, {.name = "random init"}};
    int64_t *idx = malloc((size_t)N * sizeof *idx);
    double r1a = 0, r1b = 0, r2a = 0, r2b = 0;
    if (!rbm1 || !rbm2 || !step || !idx || nb_rbm_init_visible_bias(rbm1, d.train.x) != NB_OK) {
        fprintf(stderr, "dbn: setup: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    printf("greedy pretraining (CD-1, lr %g, batch %d, %d epochs per RBM)\n", s.pre_lr, s.batch,
           s.pre_epochs);
    if (pretrain(&s, rbm1, d.train.x, "RBM 1 (784 -> h1)", &r1a, &r1b)) {
        rc = 1;
        goto done;
    }
    h1 = nb_rbm_transform(rbm1, d.train.x, 0);
    if (!h1 || nb_rbm_init_visible_bias(rbm2, h1) != NB_OK ||
        pretrain(&s, rbm2, h1, "RBM 2 (h1 -> h2)", &r2a, &r2b)) {
        if (!h1)
            fprintf(stderr, "dbn: transform: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }

    /* The labelled subset: `labels` random training images. */
    for (int64_t i = 0; i < N; i++)
        idx[i] = i;
    nb_rng pick = nb_rng_seed(s.seed + 5);
    nb_rng_shuffle_i64(&pick, idx, N);
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = s.ft_lr;
    so.momentum = 0.9;
    nb_rng init = nb_rng_seed(s.seed + 9);
    runs[0].net = nb_dbn_to_mlp(2, (nb_module *[]){rbm1, rbm2}, 10, &init);
    runs[1].net =
        nb_mlp_new(4, (int64_t[]){784, s.h1, s.h2, 10}, NB_ACT_SIGMOID, NB_ACT_NONE, &init, NB_F32);
    for (int i = 0; i < 2; i++)
        runs[i].opt = runs[i].net ? nb_sgd_new(runs[i].net, &so) : NULL;
    /* one batcher per network with the same seed: both see the same batches */
    nb_batch_opts bo = {.batch_size = s.ft_batch, .shuffle = true, .seed = s.seed};
    if (nb_dataset_subset(&d.train, idx, labels, &lab) != NB_OK || !runs[0].opt || !runs[1].opt ||
        !(its[0] = nb_batcher_new(&lab, &bo)) || !(its[1] = nb_batcher_new(&lab, &bo))) {
        fprintf(stderr, "dbn: fine-tuning setup: %s\n", nb_last_error());
        rc = 1;
        goto done;
    }
    printf("fine-tuning 784-%d-%d-10 (sigmoid) with cross-entropy, SGD lr %g momentum 0.9, "
           "batch %d, %d epochs\n",
           s.h1, s.h2, s.ft_lr, s.ft_batch, s.ft_epochs);
    printf("epoch   pretrained: loss  test acc   random init: loss  test acc\n");
    for (int i = 0; i < 2; i++) {
        runs[i].first_loss = NAN;
        runs[i].acc = accuracy(runs[i].net, &d.test, step);
    }
    printf("%5d   %16s  %7.2f%%   %17s  %7.2f%%\n", 0, "", 100 * runs[0].acc, "",
           100 * runs[1].acc);
    for (int e = 1; e <= s.ft_epochs; e++) {
        for (int i = 0; i < 2; i++) {
            double l = finetune_epoch(&runs[i], its[i], step);
            if (isnan(l)) {
                rc = 1;
                goto done;
            }
            if (e == 1)
                runs[i].first_loss = l;
            runs[i].last_loss = l;
        }
        if (e % s.every == 0 || e == s.ft_epochs) {
            for (int i = 0; i < 2; i++)
                runs[i].acc = accuracy(runs[i].net, &d.test, step);
            printf("%5d   %16.4f  %7.2f%%   %17.4f  %7.2f%%\n", e, runs[0].last_loss,
                   100 * runs[0].acc, runs[1].last_loss, 100 * runs[1].acc);
        }
    }
    printf("test accuracy with %d labels: %.2f%% with pretraining, %.2f%% without\n", labels,
           100 * runs[0].acc, 100 * runs[1].acc);
    if (check && !(r1b < r1a && r2b < r2a && runs[0].last_loss < runs[0].first_loss)) {
        printf("check failed: a reconstruction error or a fine-tuning loss did not fall\n");
        rc = 1;
    }
done:
    for (int i = 0; i < 2; i++) {
        nb_optim_free(runs[i].opt);
        nb_module_free(runs[i].net);
    }
    nb_batcher_free(its[0]);
    nb_batcher_free(its[1]);
    nb_dataset_deinit(&lab);
    free(idx);
    nb_tensor_free(h1);
    nb_step_free(step);
    nb_module_free(rbm1);
    nb_module_free(rbm2);
    ex_images_free(&d);
    return rc;
}
