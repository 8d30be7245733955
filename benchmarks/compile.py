"""``torch.compile`` on this machine: compile time and steady training-step speed of each network.

    python benchmarks/compile.py [--steps 6] [--mode default]

Times the raw network's training step (forward, float32 loss, backward, optimizer step) on
random data of the recipe's batch size, eager and compiled (``nn.Module.compile``, as
``--model.compile true`` does), with the recipe's precision and memory format on this
device: the first compiled step (which compiles forward and backward) and the best of the
steady steps. Accuracy with and without compile: benchmarks/accuracy.py with
``-- --model.compile true``.
"""

import argparse
import sys
import time

import torch
import torch.nn.functional as F
from environment import describe

from lit_digits import DavidNet, TPUConvNet


def step_times(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, bf16: bool, steps: int) -> list[float]:
    """Seconds of each of ``steps`` training steps, the first one included."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if x.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--mode", default="default", help="torch.compile mode")
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"$ {' '.join(sys.argv)}\n{describe()}\n")
    print("| model (batch, precision) | eager img/s | compiled img/s | speedup | first compiled step |")
    print("| --- | --- | --- | --- | --- |")
    for name, make, batch, shape, bf16 in [
        ("TPUConvNet", TPUConvNet, 256, (1, 28, 28), False),
        ("DavidNet", DavidNet, 512, (3, 32, 32), True),
    ]:
        memory_format = torch.channels_last if bf16 else torch.contiguous_format  # as the configs train
        x = torch.rand(batch, *shape, device=device).contiguous(memory_format=memory_format)
        y = torch.randint(0, 10, (batch,), device=device)
        torch.manual_seed(0)
        eager = make().to(device, memory_format=memory_format)
        compiled = make().to(device, memory_format=memory_format)
        compiled.net.compile(mode=args.mode)
        eager_best = min(step_times(eager, x, y, bf16, args.steps)[1:])
        compiled_times = step_times(compiled, x, y, bf16, args.steps)
        compiled_best = min(compiled_times[1:])
        print(f"| {name} ({batch}, {'bf16 autocast' if bf16 else 'fp32'}) | {batch / eager_best:.0f} | "
              f"{batch / compiled_best:.0f} | {eager_best / compiled_best:.2f}x | {compiled_times[0]:.1f} s |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
