"""Training-step images/s of each network on this CPU: fp32 vs bf16 autocast, NCHW vs channels-last.

    python benchmarks/cpu_precision.py [--steps 4]

Times the raw network (forward, float32 loss, backward, optimizer step) on random data of
the recipe's batch size, so the figures isolate what precision and memory format do.
"""

import argparse
import sys
import time

import torch
import torch.nn.functional as F
from environment import describe

from lit_digits import DavidNet, TPUConvNet


def images_per_second(
    model: torch.nn.Module, batch: int, shape: tuple, bf16: bool, channels_last: bool, steps: int
) -> float:
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    x = torch.rand(batch, *shape).contiguous(memory_format=memory_format)
    y = torch.randint(0, 10, (batch,))
    optimizer = model.make_optimizer([p for p in model.parameters() if p.requires_grad], lr=0.01)
    best = float("inf")
    for step in range(steps + 1):
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step:  # the first step warms up
            best = min(best, time.perf_counter() - start)
    return batch / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    print(f"$ {' '.join(sys.argv)}\n{describe()}\n")
    print("| model (batch) | fp32 | bf16 autocast | fp32 channels_last | bf16 autocast + channels_last |")
    print("| --- | --- | --- | --- | --- |")
    for name, model, batch, shape in [
        ("TPUConvNet", TPUConvNet(), 256, (1, 28, 28)),
        ("DavidNet", DavidNet(), 512, (3, 32, 32)),
    ]:
        cells = []
        for channels_last in (False, True):
            for bf16 in (False, True):
                cells.append(images_per_second(model, batch, shape, bf16, channels_last, args.steps))
        fp32 = cells[0]
        print(
            f"| {name} ({batch}) | " + " | ".join(f"{c:.0f} img/s ({c / fp32:.2f}x)" for c in cells) + " |", flush=True
        )


if __name__ == "__main__":
    main()
