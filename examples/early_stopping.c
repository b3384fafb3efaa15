/* examples/early_stopping.c — early stopping on a validation set. The Fashion-MNIST training
 * set is split 60/20/20 into train / validation / test (nb_dataset_split); an MLP with dropout
 * trains on the first part, is scored on the validation part after every epoch, and the best
 * model so far is checkpointed (nb_checkpoint_save_model). After `patience` epochs without a
 * better validation accuracy training stops, the best checkpoint is restored and its accuracy
 * on the held-out test part is reported.
 *
 *   early_stopping                     on Fashion-MNIST (dataset-fashion-mnist)
 *   early_stopping --patience 5        wait longer before stopping */
#include "common/cli.h"
#include "common/images.h"
#include <nabla.h>

#include <math.h>
#include <stdio.h>

static const char *const PROG = "early_stopping";

static nb_module *build_mlp(int hidden, double dropout, uint64_t seed)
{
    nb_rng rng = nb_rng_seed(seed);
    return nb_sequential_new(7, (nb_module *[]){nb_linear_new(784, hidden, true, &rng),
                                                nb_relu_new(), nb_dropout_new(dropout, seed + 1),
                                                nb_linear_new(hidden, hidden / 2, true, &rng),
                                                nb_relu_new(), nb_dropout_new(dropout, seed + 2),
                                                nb_linear_new(hidden / 2, 10, true, &rng)});
}

int main(int argc, char **argv)
{
    int max_epochs = 30, patience = 3, batch = 128, threads = 1, limit = 0, hidden = 256;
    double lr = 0.05, momentum = 0.9, dropout = 0.3;
    uint64_t seed = 1;
    const char *data = NULL, *checkpoint = "early_stopping_best.ckpt";
    bool check = false, synthetic = false;
    ex_opt opts[] = {
        {"max-epochs", EX_OPT_INT, &max_epochs, "stop after this many epochs in any case"},
        {"patience", EX_OPT_INT, &patience,
         "stop after this many epochs without a better validation accuracy"},
        {"hidden", EX_OPT_INT, &hidden, "units of the first hidden layer (the second has half)"},
        {"dropout", EX_OPT_DOUBLE, &dropout, "drop probability after each hidden layer"},
        {"lr", EX_OPT_DOUBLE, &lr, "learning rate"},
        {"momentum", EX_OPT_DOUBLE, &momentum, "SGD momentum"},
        {"batch", EX_OPT_INT, &batch, "minibatch size"},
        {"data", EX_OPT_STRING, &data, "directory of MNIST-format files (default: Fashion-MNIST)"},
        {"synthetic", EX_OPT_FLAG, &synthetic,
         "train on generated images (1000 training, 300 test; no files needed)"},
        {"limit", EX_OPT_INT, &limit, "use the first N training samples only (0: all)"},
        {"threads", EX_OPT_INT, &threads, "threads for the matrix products"},
        {"seed", EX_OPT_U64, &seed, "seed of the split, initialisation, dropout and shuffling"},
        {"checkpoint", EX_OPT_STRING, &checkpoint, "where the best model is kept"},
        {"check", EX_OPT_FLAG, &check,
         "exit with status 1 unless the training loss fell and the restored model's validation "
         "accuracy equals the best one seen"},
    };
    const ex_program prog = {
        .name = PROG,
        .notes = "notes 001 (slides), training: the 60 / 20 / 20 split and dropout; notes 003: "
                 "regularisation",
        .summary = "validation-based early stopping of a dropout MLP on Fashion-MNIST",
        .details =
            "The training set is split 60/20/20 (train / validation / test) with --seed.\n"
            "Fashion-MNIST is read from $NB_FASHION_MNIST_DIR, else " NB_FASHION_MNIST_DEFAULT_DIR
            "\n(Debian: apt-get install dataset-fashion-mnist).\n",
    };
    ex_args_result r =
        ex_parse_args(&prog, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (r != EX_ARGS_RUN)
        return r == EX_ARGS_HELP ? 0 : 2;
    if (max_epochs < 1 || patience < 1 || batch < 1 || threads < 1 || limit < 0 || hidden < 2 ||
        lr <= 0 || momentum < 0 || dropout < 0 || dropout >= 1)
        return ex_usage_error(&prog, "--max-epochs, --patience, --batch, --threads must be >= 1, "
                                     "--hidden >= 2, --limit >= 0, --lr > 0, --momentum >= 0, "
                                     "--dropout in [0, 1)");
    if (data && synthetic)
        return ex_usage_error(&prog, "--data and --synthetic exclude each other");
    nb_set_num_threads(threads);

    nb_dataset full, unused, train = {0}, val = {0}, test = {0};
    const ex_data_opts dopts = ex_data_rows(data, synthetic, limit, seed);
    if (ex_load_images(PROG, &dopts, &full, &unused, NULL, 0) != NB_OK)
        return 1;
    int rc = 0;
    nb_dataset_deinit(&unused); /* the official test set stays untouched here */
    nb_module *net = NULL;
    nb_optim *opt = NULL;
    nb_batcher *it = NULL;
    nb_step *step = NULL;
    if (nb_dataset_split(&full, 0.6, 0.2, seed, &train, &val, &test) != NB_OK) {
        fprintf(stderr, "%s: splitting: %s\n", PROG, nb_last_error());
        rc = 1;
        goto done;
    }
    printf("split 60/20/20: %lld train, %lld validation, %lld test\n",
           (long long)nb_dataset_size(&train), (long long)nb_dataset_size(&val),
           (long long)nb_dataset_size(&test));

    net = build_mlp(hidden, dropout, seed);
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = lr;
    so.momentum = momentum;
    opt = net ? nb_sgd_new(net, &so) : NULL;
    it = nb_batcher_new(&train,
                        &(nb_batch_opts){.batch_size = batch, .shuffle = true, .seed = seed});
    step = nb_step_new();
    if (!net || !opt || !it || !step) {
        fprintf(stderr, "%s: setting up: %s\n", PROG, nb_last_error());
        rc = 1;
        goto done;
    }
    printf("model: 784-%d-%d-10 ReLU MLP, dropout %g; SGD lr %g, momentum %g, batch %d; "
           "patience %d\n",
           hidden, hidden / 2, dropout, lr, momentum, batch, patience);

    double best_val = -1, first_loss = NAN, last_loss = NAN;
    int best_epoch = 0, since_best = 0, epoch;
    for (epoch = 1; epoch <= max_epochs && since_best < patience; epoch++) {
        char label[32], took[32];
        snprintf(label, sizeof label, "epoch %d", epoch);
        nb_loop_result tr, tre, ve;
        if (nb_train_epoch(net, opt, it, step, &(nb_loop_opts){.label = label}, &tr) != NB_OK ||
            nb_evaluate(net, &train, step, NULL, &tre) != NB_OK ||
            nb_evaluate(net, &val, step, NULL, &ve) != NB_OK) {
            fprintf(stderr, "%s: %s\n", PROG, nb_last_error());
            rc = 1;
            goto done;
        }
        const double loss = tr.loss, train_acc = tre.accuracy, val_acc = ve.accuracy,
                     val_loss = ve.loss;
        if (epoch == 1)
            first_loss = loss;
        last_loss = loss;
        bool better = val_acc > best_val;
        printf("epoch %d: train loss %.4f, train accuracy %.2f%%, validation accuracy %.2f%% "
               "(loss %.4f; %s)%s\n",
               epoch, loss, 100 * train_acc, 100 * val_acc, val_loss,
               nb_format_duration(tr.seconds + tre.seconds + ve.seconds, took, sizeof took),
               better ? " best so far, saved" : "");
        fflush(stdout);
        if (better) {
            best_val = val_acc;
            best_epoch = epoch;
            since_best = 0;
            if (nb_checkpoint_save_model(checkpoint, net, opt) != NB_OK) {
                fprintf(stderr, "%s: saving the best model: %s\n", PROG, nb_last_error());
                rc = 1;
                goto done;
            }
        } else {
            since_best++;
        }
    }
    if (since_best >= patience)
        printf("stopped after epoch %d: no better validation accuracy for %d epochs\n", epoch - 1,
               patience);
    else
        printf("reached --max-epochs %d\n", max_epochs);

    /* restore the best model (parameters and optimizer state) and score it once on test */
    if (nb_checkpoint_load_model(checkpoint, net, opt) != NB_OK) {
        fprintf(stderr, "%s: restoring the best model: %s\n", PROG, nb_last_error());
        rc = 1;
        goto done;
    }
    nb_loop_result ve, te;
    if (nb_evaluate(net, &val, step, NULL, &ve) != NB_OK ||
        nb_evaluate(net, &test, step, NULL, &te) != NB_OK) {
        fprintf(stderr, "%s: %s\n", PROG, nb_last_error());
        rc = 1;
        goto done;
    }
    const double val_acc = ve.accuracy, test_acc = te.accuracy;
    printf("restored the best model (epoch %d) from %s: validation accuracy %.2f%%\n", best_epoch,
           checkpoint, 100 * val_acc);
    printf("test accuracy of the best model: %.2f%%\n", 100 * test_acc);
    if (check) {
        bool fell = epoch - 1 >= 2 && last_loss < first_loss;
        bool same = val_acc == best_val;
        printf("check: training loss %.4f -> %.4f %s; restored validation accuracy %s\n",
               first_loss, last_loss, fell ? "fell" : "DID NOT FALL",
               same ? "matches the best" : "DIFFERS from the best");
        if (!fell || !same)
            rc = 1;
    }
done:
    nb_step_free(step);
    nb_batcher_free(it);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_dataset_deinit(&full);
    nb_dataset_deinit(&train);
    nb_dataset_deinit(&val);
    nb_dataset_deinit(&test);
    return rc;
}
