"""Python PyTorch side of bench/train_throughput.cpp: torchvision mnasnet1_0
(the MnasNet-B1 layout), batch 128, 2 threads, 32x32 RGB, 10 classes, SGD,
channels-last and default memory format. Run with Debian's /usr/bin/python3."""
import argparse
import sys
import time

try:
    import torch
    import torchvision
except ImportError as e:
    sys.exit("%s: the Python peer needs PyTorch and torchvision (%s): "
             "apt-get install python3-torch python3-torchvision" % (sys.argv[0], e))


def measure(channels_last, steps, warmup=3):
    torch.manual_seed(0)
    model = torchvision.models.mnasnet1_0(num_classes=10)
    x = torch.randn(128, 3, 32, 32)
    y = torch.randint(10, (128,))
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    model.train()

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * 128 / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(2)
    for cl in (True, False):
        ips = measure(cl, args.steps)
        print("python  mnasnet1_0 batch 128 threads 2 32x32 %-13s %8.1f img/s"
              % ("channels-last" if cl else "default", ips), flush=True)


if __name__ == "__main__":
    main()
