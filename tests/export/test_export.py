"""``lit_digits export``: every shipped network as ONNX and as a torch.export program that give
PyTorch's probabilities, and the command's files, names and refusals."""

import sys
from pathlib import Path

import pytest
import torch
from helpers.cli import CONFIGS, SMALL_AIR, SMALL_DAVIDNET, SMALL_FAST, assert_one_line_error, built_cli
from torch import nn

from lit_digits.export import FORMATS, DeployedClassifier, export, run_exported
from lit_digits.models import AveragedViews

NETWORKS = {
    "mnist": [],
    "mnist_codelab": [],
    "mnist_medium_cnn": [],
    "mnist_fenwicks": [],
    "mnist_dense": [],
    "cifar": SMALL_DAVIDNET,
    "cifar_fast": SMALL_FAST,  # whitening, pools before BatchNorm, ghost BatchNorm, CELU
    "cifar_air": SMALL_AIR[:2],
}
"""Each shipped config, with overrides that make its network tiny."""


def randomized(model: nn.Module) -> nn.Module:
    """``model`` with its constant-initialized tensors (BatchNorm's statistics, scales and shifts, zeroed
    layers) made random, so that every layer matters and the outputs differ from image to image."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        net = model.evaluation_net  # the weight average, where the recipe keeps one
        for name, tensor in [*net.named_parameters(), *net.named_buffers()]:
            if not tensor.is_floating_point() or tensor.numel() < 2 or tensor.unique().numel() > 1:
                continue
            if name.endswith("running_var") or name.endswith("weight") and tensor.dim() == 1:  # scales
                tensor.copy_(0.5 + torch.rand(tensor.shape, generator=generator))
            else:
                tensor.copy_(0.1 * torch.randn(tensor.shape, generator=generator))
    return model


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "test_time_views"),
    [(config, False) for config in NETWORKS] + [(config, True) for config in NETWORKS if config.startswith("cifar")],
)
def test_every_shipped_network_exports_to_files_that_give_pytorchs_probabilities(config, test_time_views, tmp_path):
    args = ["--config", str(CONFIGS / f"{config}.yaml"), *NETWORKS[config], "--trainer.logger", "false"]
    model = randomized(built_cli(*args).model)  # the model a config builds, as the objects themselves
    model.techniques = [t for t in model.techniques if not isinstance(t, AveragedViews)]
    model.techniques += [AveragedViews(flip=True, translate=True)] if test_time_views else []
    deployed = DeployedClassifier(model.eval(), test_time_views).eval()
    shape = (1, 28, 28) if config.startswith("mnist") else (3, 32, 32)
    for format, suffix in FORMATS.items():
        path = tmp_path / f"{config}{suffix}"
        export(deployed, torch.rand(2, *shape), path, format)
        for batch in (1, 7):
            images = torch.rand(batch, 1, 1, 1) * torch.rand(batch, *shape)  # of differing brightness
            with torch.no_grad():
                expected, through_the_model = deployed(images), model(images).float().softmax(-1)
            assert torch.allclose(expected, through_the_model, atol=1e-6)
            exported = run_exported(path, images)
            assert (exported - expected).abs().max() < 1e-4, (format, batch)
            assert (exported.log() - expected.log()).abs().max() < 1e-4, (format, batch)  # as logits
        assert expected.log().std(dim=0).max() > 1e-3  # the outputs depend on the image, more than that


@pytest.fixture
def run(fitted_run, tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return fitted_run


def test_export_writes_a_new_file_named_after_the_run_and_says_what_it_is(run, tmp_path, in_process):
    result = in_process.run_cli("export", str(run), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "mnist-version_0-best.onnx"
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"wrote {path.name} (onnx, ") and path.is_file()
    assert "N x 1 x 28 x 28 float32, pixels in [0, 1], any N" in lines[1]
    assert "N x 10 float32, softmax over 0, 1," in lines[2]
    difference = float(lines[3].split(": ")[1].split()[0])
    assert difference < 1e-5 and "test images" in lines[3]
    again = in_process.run_cli("export", str(run), "--tta", cwd=tmp_path)
    assert again.returncode == 0 and (tmp_path / "mnist-version_0-best-tta.onnx").is_file()
    third = in_process.run_cli("export", str(run), cwd=tmp_path)
    assert (tmp_path / "mnist-version_0-best-1.onnx").is_file() and third.returncode == 0
    assert path.read_bytes() != b"" and len(list(tmp_path.glob(".*partial*"))) == 0


def test_the_exported_program_classifies_as_the_checkpoints_model(run, tmp_path, in_process):
    from lit_digits import ImageClassifier

    result = in_process.run_cli("export", str(run / "checkpoints" / "last.ckpt"), "--out", "m.pt2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    images = torch.rand(5, 1, 28, 28)
    model = ImageClassifier.load_from_checkpoint(run / "checkpoints" / "last.ckpt", map_location="cpu").eval()
    with torch.no_grad():
        expected = model.predict_step((images, None), 0)
    assert torch.allclose(run_exported(tmp_path / "m.pt2", images), expected, atol=1e-5)


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("existing.onnx", "existing.onnx exists already; pass another --out (nothing is overwritten)"),
        ("RUN/model.onnx", "is inside the run folder"),
        ("model.pt2 --format onnx", "--out model.pt2 should end in .onnx for --format onnx"),
    ],
)
def test_export_refuses_to_overwrite_or_write_into_a_run(out, message, run, tmp_path, in_process):
    (tmp_path / "existing.onnx").write_bytes(b"kept")
    args = out.replace("RUN", str(run)).split()
    result = in_process.run_cli("export", str(run), "--out", *args, cwd=tmp_path)
    assert_one_line_error(result, message, alone=True)
    assert (tmp_path / "existing.onnx").read_bytes() == b"kept" and not (run / "model.onnx").exists()


def test_export_without_the_onnx_packages_says_what_to_install(run, tmp_path, monkeypatch, in_process):
    monkeypatch.setitem(sys.modules, "onnx", None)  # an import of it fails
    result = in_process.run_cli("export", str(run), cwd=tmp_path)
    assert result.returncode == 1 and 'pip install "lit_digits[serve]"' in result.stderr
    assert not list(tmp_path.glob("*.onnx"))
