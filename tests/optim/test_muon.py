"""Muon for convolution filters, against torch.optim.Muon and against airbench's update."""

import copy

import pytest
import torch
import torch.nn.functional as F

from lit_digits.nets import AirbenchNet
from lit_digits.optim import CombinedOptimizer, Muon
from lit_digits.optim.muon import QUINTIC, orthogonalize


@pytest.fixture
def bf16_newton_schulz(bf16_cpu):
    """Newton-Schulz in bfloat16, as the references run it, whatever this CPU runs natively."""
    bf16_cpu(True)


def filters_and_gradients(steps: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A real filter bank of the airbench network (256 x 64 x 3 x 3) and its gradients on ``steps`` batches."""
    torch.manual_seed(0)
    net = AirbenchNet()
    net.whiten.fit(torch.randn(64, 3, 32, 32))
    weight = net.group2.conv1.weight
    grads = []
    for _ in range(steps):
        F.cross_entropy(net(torch.randn(32, 3, 32, 32)), torch.randint(0, 10, (32,))).backward()
        grads.append(weight.grad.detach().clone())
        net.zero_grad()
    return weight.detach().clone(), grads


def train(optimizer_class, start: torch.Tensor, grads: list[torch.Tensor], **options) -> torch.Tensor:
    p = torch.nn.Parameter(start.clone())
    optimizer = optimizer_class([p], **options)
    for g in grads:
        p.grad = g.reshape(p.shape).clone()
        optimizer.step()
    return p.detach()


def test_update_matches_torch_muon_on_a_flattened_filter_bank(bf16_newton_schulz):
    start, grads = filters_and_gradients(3)
    flat, flat_grads = start.reshape(256, -1), [g.reshape(256, -1) for g in grads]  # 256 x 576: no lr adjustment
    options = {"lr": 0.05, "momentum": 0.6, "nesterov": True, "ns_steps": 3, "weight_decay": 0.01}
    ours = train(Muon, flat, flat_grads, **options)
    theirs = train(torch.optim.Muon, flat, flat_grads, **options, ns_coefficients=QUINTIC, adjust_lr_fn="original")
    moved = (theirs - flat).norm()
    assert moved > 0.1
    assert (ours - theirs).norm() / moved < 0.02  # bfloat16 Newton-Schulz, summed in another order


def reference_step(
    p: torch.Tensor, g: torch.Tensor, buffer: torch.Tensor, lr: float, momentum: float, normalize: bool = True
) -> None:
    """airbench94_muon.py's Muon step, as written there (nesterov, 3 Newton-Schulz steps, weight normalization)."""
    buffer.mul_(momentum).add_(g)
    g = g.add(buffer, alpha=momentum)
    if normalize:
        p.mul_(len(p) ** 0.5 / p.norm())
    x = g.reshape(len(g), -1).bfloat16()
    x /= x.norm() + 1e-7
    if x.size(0) > x.size(1):
        x = x.T
    a, b, c = QUINTIC
    for _ in range(3):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    if g.size(0) > x.size(0):
        x = x.T
    p.add_(x.view(g.shape), alpha=-lr)


def test_update_is_airbenchs_with_weight_normalization_on_a_4d_filter_bank(bf16_newton_schulz):
    start, grads = filters_and_gradients(3)
    ours = train(Muon, start, grads, lr=0.24, momentum=0.6, nesterov=True, ns_steps=3, normalize_weights=True)
    expected, buffer = start.clone(), torch.zeros_like(start)
    for g in grads:
        reference_step(expected, g, buffer, lr=0.24, momentum=0.6)
    assert torch.allclose(ours, expected, atol=1e-6)


def test_weights_are_normalized_before_every_nth_update_only(bf16_newton_schulz):
    start, grads = filters_and_gradients(5)
    start = start * 3  # far from the normalized norm: a normalization shows
    ours = train(Muon, start, grads, lr=0.24, momentum=0.6, ns_steps=3, normalize_weights=True, normalize_every=2)
    expected, buffer = start.clone(), torch.zeros_like(start)
    for update, g in enumerate(grads, 1):
        reference_step(expected, g, buffer, lr=0.24, momentum=0.6, normalize=update % 2 == 0)
    assert torch.allclose(ours, expected, atol=1e-5)
    every = train(Muon, start, grads, lr=0.24, momentum=0.6, ns_steps=3, normalize_weights=True)
    assert not torch.allclose(ours, every, atol=1e-3)


@pytest.mark.parametrize("shape", [(64, 200), (200, 64)])
def test_orthogonalized_matrix_has_singular_values_near_one(shape):
    g = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    singular = torch.linalg.svdvals(orthogonalize(g, 5, QUINTIC, 1e-7).float())
    assert singular.min() > 0.5 and singular.max() < 1.5


def test_combined_optimizer_resumes_each_optimizer_exactly_from_its_state_dict():
    torch.manual_seed(0)
    a, b = torch.nn.Parameter(torch.randn(8, 4)), torch.nn.Parameter(torch.randn(3))

    def make() -> CombinedOptimizer:
        return CombinedOptimizer([Muon([a], lr=0.1, momentum=0.9), torch.optim.SGD([b], lr=0.1, momentum=0.9)])

    def step(optimizer: CombinedOptimizer, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        a.grad, b.grad = torch.randn(8, 4, generator=generator), torch.randn(3, generator=generator)
        optimizer.step()

    straight = make()
    for seed in range(2):
        step(straight, seed)
    saved = copy.deepcopy(straight.state_dict())  # as a checkpoint holds it: not the live buffers
    weights = a.detach().clone(), b.detach().clone()
    for seed in range(2, 4):
        step(straight, seed)
    expected = (a.detach().clone(), b.detach().clone())

    with torch.no_grad():
        a.copy_(weights[0]), b.copy_(weights[1])
    resumed = make()
    resumed.load_state_dict(saved)
    for seed in range(2, 4):
        step(resumed, seed)
    assert torch.equal(a, expected[0]) and torch.equal(b, expected[1])
    assert len(resumed.param_groups) == 2


@pytest.mark.parametrize(("native", "dtype"), [(True, torch.bfloat16), (False, torch.float32)])
def test_muon_orthogonalizes_in_bf16_only_where_the_device_runs_it_natively(native, dtype, bf16_cpu):
    bf16_cpu(native)
    torch.manual_seed(0)
    p, grad = torch.nn.Parameter(torch.randn(16, 8, 3, 3)), torch.randn(16, 8, 3, 3)
    expected = p.detach().add(
        orthogonalize(grad.reshape(16, -1), 3, QUINTIC, 1e-7, dtype).view_as(p).float(), alpha=-0.1
    )
    p.grad = grad
    Muon([p], lr=0.1, momentum=0.0, nesterov=False, ns_steps=3).step()
    torch.testing.assert_close(p.detach(), expected, rtol=0, atol=0)
