"""The reference's SGD form (rate before momentum) against torch's SGD and the reference's own update."""

import pytest
import torch
from helpers.cli import CONFIGS

from lit_digits import LitDigitsError
from lit_digits.optim import LrBeforeMomentumSGD


def train(optimizer_class, rates, **settings) -> torch.Tensor:
    torch.manual_seed(0)
    w = torch.randn(5, dtype=torch.float64, requires_grad=True)
    optimizer = optimizer_class([w], lr=rates[0], **settings)
    for step, rate in enumerate(rates):
        optimizer.param_groups[0]["lr"] = rate
        w.grad = torch.sin(w.detach() * (step + 1))  # any gradient that depends on the weights
        optimizer.step()
    return w.detach()


@pytest.mark.parametrize("nesterov", [True, False])
def test_with_a_constant_rate_it_is_torch_sgd(nesterov):
    settings = {"momentum": 0.9, "weight_decay": 5e-4, "nesterov": nesterov}
    ours = train(LrBeforeMomentumSGD, [0.1] * 20, **settings)
    torch.testing.assert_close(ours, train(torch.optim.SGD, [0.1] * 20, **settings))


def test_with_a_changing_rate_it_is_the_references_update():
    rates = [0.01 * (i + 1) for i in range(20)]
    torch.manual_seed(0)
    w, v = torch.randn(5, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)
    for step, lr in enumerate(rates):  # torch_backend.py's nesterov_update, transcribed
        dw = torch.sin(w * (step + 1)).add(w, alpha=5e-4).mul(-lr)
        v = v.mul(0.9).add(dw)
        w = w.add(dw.add(v, alpha=0.9))
    ours = train(LrBeforeMomentumSGD, rates, momentum=0.9, weight_decay=5e-4)
    torch.testing.assert_close(ours, w)
    assert not torch.allclose(ours, train(torch.optim.SGD, rates, momentum=0.9, weight_decay=5e-4, nesterov=True))


def test_bad_settings_are_refused():
    with pytest.raises(LitDigitsError, match="momentum in"):
        LrBeforeMomentumSGD([torch.zeros(1)], momentum=1.5)


def test_a_recipe_can_switch_to_it_from_the_command_line(tmp_path, in_process):
    printed = in_process.run_cli("fit", "--config", str(CONFIGS / "cifar_fast.yaml"), "--model.optimizer",
                                 "lit_digits.optim.LrBeforeMomentumSGD", "--print_config", cwd=tmp_path)  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    assert "class_path: lit_digits.optim.LrBeforeMomentumSGD" in printed.stdout
    assert "weight_decay: 0.0005" in printed.stdout and "nesterov: true" in printed.stdout
