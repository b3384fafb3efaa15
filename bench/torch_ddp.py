#!/usr/bin/python3
"""PyTorch DistributedDataParallel (gloo) on nabla's reference workloads, the baseline of
`mpirun -np K bench_workloads --workload W --dist` (docs/distributed.md).

Weak scaling, as the nabla side: each of K processes runs the workload's batch (the models,
inputs and optimizers of bench/torch_workloads.py), DDP averages the gradients over the ranks
with its default 25 MiB buckets overlapped with backward. Prints one JSON line: median and mean
ms per step over the ranks, the samples per second of all ranks, and the backward
communication and overlap times DDP's own logging reports (averaged over its sampled steps).

    /usr/bin/python3 bench/torch_ddp.py --workload W1 --world 2 --steps 50
"""
import argparse
import json
import os
import statistics
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workload", required=True, choices=["W1", "W2", "W3", "W4", "W5", "W6"])
    p.add_argument("--world", type=int, default=2, help="processes (ranks)")
    p.add_argument("--threads", type=int, default=1, help="threads per rank")
    p.add_argument("--steps", type=int, default=50, help="timed steps")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--port", type=int, default=29517)
    return p.parse_args()


def rank_main(rank, args, results):
    for var in ("OMP_NUM_THREADS", "BLIS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    # bench/torch_workloads.py reads its options when imported: give it this run's
    sys.argv = ["torch_workloads.py", "--workload", args.workload, "--threads", str(args.threads)]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP
    import torch_workloads

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=rank,
                            world_size=args.world)
    net, opt, loss_fn, _ = torch_workloads.make_workload(args.workload)
    ddp = DDP(net)
    ddp._set_ddp_runtime_logging_sample_rate(1)  # time every step's communication
    # the workload's loss calls its model directly: make it call the DDP wrapper instead
    for cell in loss_fn.__closure__ or ():
        if cell.cell_contents is net:
            cell.cell_contents = ddp
    net.train()
    times = []
    for i in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss_fn().backward()
        opt.step()
        if i >= args.warmup:
            times.append((time.perf_counter() - t0) * 1e3)
    log = ddp._get_ddp_logging_data()
    med = torch.tensor([statistics.median(times), statistics.mean(times)], dtype=torch.float64)
    dist.all_reduce(med)
    if rank == 0:
        k = args.world
        batch = {"W1": 128, "W2": 64}.get(args.workload, 32)
        ns = 1e-6  # DDP's logging times are in nanoseconds
        results.put({
            "framework": "pytorch_ddp_gloo", "version": torch.__version__,
            "workload": args.workload, "ranks": k, "threads": args.threads, "steps": args.steps,
            "batch_per_rank": batch, "median_ms": med[0].item() / k, "mean_ms": med[1].item() / k,
            "samples_per_s": k * batch / (med[0].item() / k / 1e3),
            "backward_comm_ms": log.get("avg_backward_comm_time", 0) * ns,
            "backward_compute_ms": log.get("avg_backward_compute_time", 0) * ns,
            "comm_overlap_ms": log.get("avg_backward_compute_comm_overlap_time", 0) * ns,
            # communication not hidden by backward: the share of the step spent waiting on it
            "wait_ms": (log.get("avg_backward_comm_time", 0)
                        - log.get("avg_backward_compute_comm_overlap_time", 0)) * ns,
        })
    dist.destroy_process_group()


def main():
    args = parse()
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=rank_main, args=(r, args, results)) for r in range(args.world)]
    for p in procs:
        p.start()
    out = results.get(timeout=1800)
    for p in procs:
        p.join()
    print(json.dumps(out))
    return max(p.exitcode for p in procs)


if __name__ == "__main__":
    sys.exit(main())
