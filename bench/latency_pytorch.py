#!/usr/bin/python3
"""Python PyTorch side of bench/latency_bench.sh: torchvision mnasnet1_0 (the
same architecture as mnas's mnasnet-b1) per engine, same LibTorch version as
mnas (Debian python3-torch). Prints one line per engine:
    python <engine> <median_ms> <p10_ms> <p90_ms> <runs>
Usage: /usr/bin/python3 bench/latency_pytorch.py [--threads 1] [--image-size 224] [--runs 30]
"""
import argparse
import sys
import ctypes
import os
import time

try:
    import torch
    import torchvision
except ImportError as e:
    sys.exit("%s: the Python peer needs PyTorch and torchvision (%s): "
             "apt-get install python3-torch python3-torchvision" % (sys.argv[0], e))
from torch.utils.mobile_optimizer import optimize_for_mobile  # noqa: E402


def tune_malloc():
    # Same glibc settings as mnas (latency/measure.cpp): keep large buffers.
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc.mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024)
    libc.mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024)


def timeit(fn, x, warmup, runs, min_time_ms):
    with torch.inference_mode():
        for _ in range(warmup):
            fn(x)
        times = []
        start = time.perf_counter()
        while len(times) < runs or (time.perf_counter() - start) * 1e3 < min_time_ms:
            t0 = time.perf_counter()
            fn(x)
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(round(p * (len(times) - 1))))]
    return q(0.5), q(0.1), q(0.9), len(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--engines", default="eager,onednn,xnnpack")
    a = ap.parse_args()
    tune_malloc()
    torch.set_num_threads(a.threads)
    if a.threads == 1:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    torch.manual_seed(0)
    model = torchvision.models.mnasnet1_0().eval()
    x = torch.randn(1, 3, a.image_size, a.image_size)
    for engine in a.engines.split(","):
        if engine == "eager":
            fn = model
        else:
            script = torch.jit.script(model).eval()
            if engine == "onednn":
                opt = torch.jit.optimize_for_inference(torch.jit.freeze(script))
                xin = x.contiguous(memory_format=torch.channels_last)
                fn = lambda _, opt=opt, xin=xin: opt(xin)
            else:
                fn = optimize_for_mobile(script)
        warmup = 3 if engine == "eager" else 10
        runs = 10 if engine == "eager" else a.runs
        med, p10, p90, n = timeit(fn, x, warmup, runs, 0 if engine == "eager" else 400)
        print(f"python {engine} {med:.3f} {p10:.3f} {p90:.3f} {n}", flush=True)


if __name__ == "__main__":
    main()
