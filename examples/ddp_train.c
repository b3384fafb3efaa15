/* ddp_train — data-parallel training of an MLP on Fashion-MNIST across processes (nabla/dist.h).
 *
 *     mpirun -np 2 build/examples/ddp_train --epochs 2          (add --allow-run-as-root as root)
 *
 * Every rank builds the same model, rank 0's parameters are broadcast, each rank trains on its
 * shard of every global batch and the gradients are averaged while backward runs, so the ranks
 * stay identical and train like one process with the whole batch. Rank 0 prints and writes the
 * checkpoint; the loss and accuracy are reduced over all ranks. At the end each rank reports its
 * time per step and how long it waited for the gradient all-reduce after backward (the part of
 * the communication that backward did not hide; compare with --no-overlap). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/images.h"
#include "nabla.h"
#include "nabla/dist.h"

static const char *prog_name = "ddp_train";

/* Correct predictions of net on this rank's shard of ds (the whole set split over the ranks). */
static int64_t count_correct(nb_module *net, const nb_dataset *ds, nb_step *step, int64_t *n)
{
    nb_dist_sampler *smp = nb_dist_sampler_new(
        nb_dataset_size(ds), &(nb_dist_sampler_opts){.global_batch = nb_dataset_size(ds)});
    nb_dist_shard sh;
    nb_tensor *x = NULL, *y = NULL;
    int64_t correct = 0;
    *n = 0;
    if (!smp || !nb_dist_sampler_next(smp, &sh) || nb_dist_shard_gather(ds, &sh, &x, &y) != NB_OK)
        nb_dist_abort(nb_last_error());
    if (sh.size > 0) {
        bool grad = nb_set_grad_enabled(false);
        nb_module_train(net, false);
        nb_step_begin(step);
        nb_tensor *logits = nb_module_forward(net, x);
        if (!logits)
            nb_dist_abort(nb_last_error());
        const float *l = nb_tensor_data_f32(logits);
        int64_t c = nb_tensor_dim(logits, 1);
        for (int64_t i = 0; i < sh.size; i++) {
            int64_t best = 0;
            for (int64_t j = 1; j < c; j++)
                best = l[i * c + j] > l[i * c + best] ? j : best;
            correct += best == nb_tensor_data_i64(y)[i];
        }
        nb_step_end(step);
        nb_module_train(net, true);
        nb_set_grad_enabled(grad);
        *n = sh.size;
    }
    nb_tensor_free(x);
    nb_tensor_free(y);
    nb_dist_sampler_free(smp);
    return correct;
}

int main(int argc, char **argv)
{
    bool synthetic = false, no_overlap = false, check = false;
    const char *data_dir = NULL, *ckpt = "", *resume = "";
    int limit = 0, epochs = 2, batch = 128, hidden = 256, bucket_kb = 1024, threads = 1,
        max_steps = 0;
    double lr = 0.05, timeout = 0;
    uint64_t seed = 1;
    ex_opt opts[] = {
        {"synthetic", EX_OPT_FLAG, &synthetic, "generated images instead of Fashion-MNIST"},
        {"data", EX_OPT_STRING, &data_dir, "Fashion-MNIST directory (default: Debian's)"},
        {"limit", EX_OPT_INT, &limit, "at most this many samples of each split (0: all)"},
        {"epochs", EX_OPT_INT, &epochs, "epochs to train (in total, when resuming)"},
        {"steps", EX_OPT_INT, &max_steps, "at most this many steps per epoch (0: all)"},
        {"batch", EX_OPT_INT, &batch, "global batch: samples per step over all ranks"},
        {"hidden", EX_OPT_INT, &hidden, "units of each of the two hidden layers"},
        {"lr", EX_OPT_DOUBLE, &lr, "SGD learning rate (momentum 0.9)"},
        {"seed", EX_OPT_U64, &seed, "seed of the model and the shuffling (same on every rank)"},
        {"bucket-kb", EX_OPT_INT, &bucket_kb, "gradient bucket size in KiB"},
        {"no-overlap", EX_OPT_FLAG, &no_overlap, "all-reduce after backward, in one piece"},
        {"threads", EX_OPT_INT, &threads, "compute threads per rank"},
        {"timeout", EX_OPT_DOUBLE, &timeout, "seconds a rank waits for the others (0: default)"},
        {"checkpoint", EX_OPT_STRING, &ckpt, "write model and optimizer here after each epoch"},
        {"resume", EX_OPT_STRING, &resume, "resume from this checkpoint (any rank count)"},
        {"check", EX_OPT_FLAG, &check, "exit 1 unless the loss falls and the ranks agree"},
    };
    const ex_program prog = {
        prog_name,
        "data-parallel MLP training across MPI processes",
        "Run under mpirun: mpirun -np 2 ddp_train --synthetic",
        NULL,
        0,
        "no exercise of the notes: a library demo (data-parallel training over MPI)"};
    ex_args_result ar =
        ex_parse_args(&prog, opts, (int)(sizeof opts / sizeof *opts), argc, argv, NULL, NULL);
    if (ar != EX_ARGS_RUN)
        return ar == EX_ARGS_HELP ? 0 : 2;
    if (epochs < 1 || batch < 1 || hidden < 1 || bucket_kb < 1 || threads < 1 || max_steps < 0)
        return ex_usage_error(&prog, "epochs, batch, hidden, bucket-kb and threads must be >= 1");

    if (nb_dist_init(&argc, &argv) != NB_OK) {
        fprintf(stderr, "%s: %s\n", prog_name, nb_last_error());
        return 1;
    }
    int rank = nb_dist_rank(), world = nb_dist_world_size();
    if (!nb_dist_is_main() && !freopen("/dev/null", "w", stdout)) /* rank 0 prints */
        nb_dist_abort("cannot silence stdout");
    if (timeout > 0)
        nb_dist_set_timeout(timeout);
    nb_set_num_threads(threads);

    nb_dataset train, test;
    if (ex_load_images(prog_name,
                       &(ex_data_opts){.dir = data_dir,
                                       .synthetic = synthetic,
                                       .limit = limit,
                                       .test_limit = limit,
                                       .n_train = 2048,
                                       .n_test = 512,
                                       .seed = seed,
                                       .layout = NB_LAYOUT_DEFAULT},
                       &train, &test, NULL, 0) != NB_OK)
        nb_dist_abort("no data");
    nb_rng rng = nb_rng_seed(seed);
    nb_module *net = nb_sequential_new(
        6, (nb_module *[]){nb_flatten_new(), nb_linear_new(784, hidden, true, &rng), nb_relu_new(),
                           nb_linear_new(hidden, hidden, true, &rng), nb_relu_new(),
                           nb_linear_new(hidden, 10, true, &rng)});
    nb_sgd_opts so = nb_sgd_defaults();
    so.lr = lr;
    so.momentum = 0.9;
    nb_optim *opt = net ? nb_sgd_new(net, &so) : NULL;
    nb_ddp *ddp = opt ? nb_ddp_new(net, opt,
                                   &(nb_ddp_opts){.bucket_bytes = (size_t)bucket_kb << 10,
                                                  .no_overlap = no_overlap})
                      : NULL;
    nb_dist_sampler *smp = nb_dist_sampler_new(
        nb_dataset_size(&train),
        &(nb_dist_sampler_opts){.global_batch = batch, .shuffle = true, .seed = seed});
    nb_step *step = nb_step_new();
    if (!ddp || !smp || !step)
        nb_dist_abort(nb_last_error());
    int64_t per_epoch = nb_dist_sampler_num_batches(smp);
    if (max_steps > 0 && max_steps < per_epoch)
        per_epoch = max_steps;
    int first_epoch = 0;
    if (*resume) {
        if (nb_ddp_load_checkpoint(ddp, resume) != NB_OK)
            nb_dist_abort(nb_last_error());
        first_epoch = (int)(nb_optim_update_count(opt) / per_epoch);
        printf("resumed from %s at epoch %d\n", resume, first_epoch + 1);
    }
    printf("%d rank(s) x %d thread(s), global batch %d (%d per rank), %lld parameters\n", world,
           threads, batch, batch / world, (long long)nb_module_num_params(net));

    double first_loss = -1, last_loss = 0, step_seconds = 0;
    int64_t steps = 0;
    for (int epoch = first_epoch; epoch < epochs; epoch++) {
        nb_dist_sampler_seek(smp, epoch, 0);
        double sums[2] = {0, 0}; /* loss * samples, samples */
        nb_dist_shard sh;
        for (int64_t b = 0; b < per_epoch && nb_dist_sampler_next(smp, &sh); b++) {
            nb_tensor *x = NULL, *y = NULL;
            double t0 = ex_seconds();
            nb_status st = nb_dist_shard_gather(&train, &sh, &x, &y);
            nb_step_begin(step);
            nb_optim_zero_grad(opt);
            if (st == NB_OK)
                st = nb_ddp_set_shard(ddp, sh.size, sh.global_size);
            if (st == NB_OK && sh.size > 0) {
                nb_tensor *loss = nb_cross_entropy(nb_module_forward(net, x), y, NB_REDUCE_MEAN);
                st = nb_backward(loss);
                if (st == NB_OK) {
                    sums[0] += nb_tensor_item(loss) * (double)sh.size;
                    sums[1] += (double)sh.size;
                }
            }
            if (st == NB_OK)
                st = nb_ddp_update(ddp);
            nb_step_end(step);
            nb_tensor_free(x);
            nb_tensor_free(y);
            if (st != NB_OK)
                nb_dist_abort(nb_last_error()); /* tells the other ranks */
            step_seconds += ex_seconds() - t0;
            steps++;
        }
        int64_t n_eval = 0;
        double acc[2] = {(double)count_correct(net, &test, step, &n_eval), 0};
        acc[1] = (double)n_eval;
        if (nb_dist_allreduce_sum(sums, 2) != NB_OK || nb_dist_allreduce_sum(acc, 2) != NB_OK)
            nb_dist_abort(nb_last_error());
        last_loss = sums[0] / (sums[1] > 0 ? sums[1] : 1);
        if (first_loss < 0)
            first_loss = last_loss;
        printf("epoch %d: train loss %.4f, test accuracy %.1f%% (%.0f test samples)\n", epoch + 1,
               last_loss, 100 * acc[0] / (acc[1] > 0 ? acc[1] : 1), acc[1]);
        fflush(stdout);
        if (*ckpt && nb_ddp_save_checkpoint(ddp, ckpt) != NB_OK)
            nb_dist_abort(nb_last_error());
    }

    nb_ddp_stats s = nb_ddp_get_stats(ddp);
    double per_step = steps ? step_seconds / (double)steps : 0;
    double wait = s.syncs ? s.wait_seconds / (double)s.syncs : 0;
    double times[2] = {per_step, wait};
    if (nb_dist_allreduce_sum(times, 2) != NB_OK)
        nb_dist_abort(nb_last_error());
    printf("time per step: %.2f ms (mean over ranks); waiting for the all-reduce after backward: "
           "%.2f ms per step; %lld bucket(s), %.2f MiB per step, %lld of %lld all-reduces started "
           "during backward, %lld of them done before it ended\n",
           1e3 * times[0] / world, 1e3 * times[1] / world, (long long)s.buckets,
           (double)s.bytes / (1 << 20), (long long)s.started_in_backward,
           (long long)(s.buckets * s.syncs), (long long)s.done_in_backward);
    /* every rank must hold rank 0's parameters */
    nb_tensor *p = nb_module_param_buffer(net);
    uint64_t mine = nb_digest64(nb_tensor_data(p), (size_t)nb_tensor_numel(p) * sizeof(float), 0);
    uint64_t root = mine;
    nb_dist_broadcast(&root, sizeof root, 0);
    double differ = mine != root;
    nb_dist_allreduce_sum(&differ, 1);
    printf("parameters identical on all %d ranks: %s\n", world, differ == 0 ? "yes" : "NO");
    int status = 0;
    if (check && (differ != 0 || !(last_loss < first_loss) || first_epoch >= epochs - 1)) {
        fprintf(stderr, "%s: rank %d: check failed (loss %.4f -> %.4f, ranks differ: %.0f)\n",
                prog_name, rank, first_loss, last_loss, differ);
        status = 1;
    }
    nb_step_free(step);
    nb_dist_sampler_free(smp);
    nb_ddp_free(ddp);
    nb_optim_free(opt);
    nb_module_free(net);
    nb_dataset_deinit(&train);
    nb_dataset_deinit(&test);
    if (nb_dist_finalize() != NB_OK)
        return 1;
    return status;
}
