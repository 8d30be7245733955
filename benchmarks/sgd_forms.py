"""How much torch's SGD and the reference's (rate before momentum) differ under a recipe's schedule.

    python benchmarks/sgd_forms.py --configs configs/cifar.yaml configs/cifar_fast.yaml

For each config, both optimizers (``torch.optim.SGD`` as the recipe configures it, and
``lit_digits.optim.LrBeforeMomentumSGD`` with the same momentum) train one parameter on a
constant gradient of 1, without weight decay, through the recipe's per-step schedule on
the full data set's steps. With a constant rate their steps are equal; the table shows how
far apart the schedule drives them: the ratio torch / reference of the step sizes (at the
peak rate, and its extremes after the first epoch), and of the whole distance travelled.
Also shows the reference's first-step rate, which counts steps from 1 where torch's
scheduler counts from 0. No data is read and nothing is trained: pure arithmetic on the
recipes' real optimizer and schedule objects.
"""

import argparse
import sys
import warnings

import torch
from environment import describe

from lit_digits.cli import LitDigitsCLI
from lit_digits.optim import LrBeforeMomentumSGD


def steps_taken(optimizer: torch.optim.Optimizer, rates: list[float]) -> list[float]:
    """The step sizes of one parameter under a constant gradient of 1 and these rates."""
    p = torch.zeros(1, requires_grad=True)
    optimizer.param_groups[0]["params"] = [p]
    sizes = []
    for rate in rates:
        optimizer.param_groups[0]["lr"] = rate
        before = p.item()
        p.grad = torch.ones(1)
        optimizer.step()
        sizes.append(abs(p.item() - before))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", required=True)
    args = parser.parse_args()
    print(f"$ {' '.join(sys.argv)}\n{describe()}\n")
    print(
        "| recipe | step ratio at the peak rate | after epoch 1: min, max | distance ratio | reference's first rate |"
    )
    print("| --- | --- | --- | --- | --- |")
    for config in args.configs:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
            cli = LitDigitsCLI(args=["--config", config, "--trainer.logger", "false"], run=False)  # no run folder
        model, epochs = cli.model, cli.trainer.max_epochs
        per_epoch = cli.datamodule.steps_per_epoch(cli.trainer)
        rates = [model.optimization.lr_schedule(step, per_epoch, epochs) for step in range(per_epoch * epochs)]
        torch_sgd = model.optimization.make_optimizer([torch.zeros(1)])
        settings = {k: torch_sgd.defaults[k] for k in ("momentum", "nesterov")}
        torch_sgd.param_groups[0]["weight_decay"] = 0.0
        ours = steps_taken(torch_sgd, rates)
        reference = steps_taken(LrBeforeMomentumSGD([torch.zeros(1)], **settings), rates)
        ratios = [a / b for a, b in zip(ours, reference, strict=True) if b > 0]
        peak = max(range(len(rates)), key=rates.__getitem__)
        late = ratios[per_epoch:]
        print(f"| {config} | {ours[peak] / reference[peak]:.3f} | {min(late):.3f}, {max(late):.3f} | "
              f"{sum(ours) / sum(reference):.4f} | {model.optimization.lr_schedule(1, per_epoch, epochs):.5f} (ours: "
              f"{rates[0]:g}) |")  # fmt: skip


if __name__ == "__main__":
    main()
