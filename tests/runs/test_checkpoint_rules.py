"""A checkpoint is data, never code: a class path it holds is imported and called only where the
rules allow it (lit_digits', torch's and torchvision's classes of the right kind, and the modules the
user names or trusts), and every refusal is one line.

Crafted checkpoints are made from a real finished run (``fitted_run``) with one hyper-parameter
changed; each names a payload that leaves a file behind if it ever runs."""

import copy
import sys
from pathlib import Path

import pytest
import torch
from helpers.cli import CONFIGS, assert_one_line_error
from helpers.servers import free_port

from lit_digits import ImageClassifier, ImageDataModule, LitDigitsError

MNIST = str(CONFIGS / "mnist.yaml")
SIDE_EFFECT_MODULE = "lit_digits_test_side_effect"
"""A module whose import alone writes its marker file (written by ``payloads``)."""


def payloads(marker: Path) -> dict[str, dict]:
    """Specs that would leave ``marker`` behind if imported or called, and one of the wrong kind."""
    return {
        "subprocess.run": {"class_path": "subprocess.run", "init_args": {"args": ["touch", str(marker)]}},
        "os.system": {"class_path": "os.system", "init_args": {"command": f"touch {marker}"}},
        "import side effect": {"class_path": f"{SIDE_EFFECT_MODULE}.Net", "init_args": {}},
        "private module": {"class_path": "lit_digits.__main__.main", "init_args": {}},
        "wrong kind": {"class_path": "torch.optim.SGD", "init_args": {"params": []}},
    }


FIELDS = {
    "model class": ("hyper_parameters", "_class_path"),
    "net": ("hyper_parameters", "net"),
    "optimizer": ("hyper_parameters", "optimizer"),
    "lr_schedule": ("hyper_parameters", "lr_schedule"),
    "param group optimizer": ("hyper_parameters", "param_groups", 0, "optimizer"),
    "param group lr_schedule": ("hyper_parameters", "param_groups", 0, "lr_schedule"),
    "technique": ("hyper_parameters", "techniques", 0),
    "inside the network's arguments": ("hyper_parameters", "net", "init_args", "stem"),
    "data module class": ("datamodule_hyper_parameters", "_class_path"),
}
"""Where a checkpoint holds a class path, as the keys down to it."""


@pytest.fixture
def side_effect_module(tmp_path, monkeypatch) -> Path:
    """An importable module that writes ``tmp_path/imported`` when imported; returns that path."""
    marker = tmp_path / "imported"
    (tmp_path / f"{SIDE_EFFECT_MODULE}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\nimport torch\nclass Net(torch.nn.Linear): pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return marker


def crafted(run: Path, folder: Path, field: tuple, value) -> Path:
    """``run``'s best checkpoint with the value at ``field`` replaced (a class path where the field
    is ``_class_path``), saved as ``folder/crafted.ckpt``."""
    contents = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)
    contents["hyper_parameters"]["param_groups"] = [{"params": ["net.*"]}]
    contents["hyper_parameters"]["techniques"] = [{"class_path": "lit_digits.models.AveragedViews", "init_args": {}}]
    target = contents
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value["class_path"] if field[-1] == "_class_path" else copy.deepcopy(value)
    path = folder / "crafted.ckpt"
    torch.save(contents, path)
    return path


def assert_one_line_refusal(result, *needles: str) -> None:
    """A refused checkpoint: ``lit_digits: error: checkpoint ...``, alone on stderr (``assert_one_line_error``)."""
    assert assert_one_line_error(result, *needles, alone=True).startswith("lit_digits: error: checkpoint ")


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize(
    "payload", ["subprocess.run", "os.system", "import side effect", "private module", "wrong kind"]
)
def test_the_loader_refuses_a_class_path_the_rules_do_not_allow_before_importing_it(
    payload, field, fitted_run, tmp_path, side_effect_module
):
    marker = tmp_path / "code_ran"
    if payload == "wrong kind" and field in ("optimizer", "param group optimizer"):
        payload = "wrong kind (a network as optimizer)"
        spec = {"class_path": "torch.nn.Linear", "init_args": {"in_features": 1, "out_features": 1}}
    else:
        spec = payloads(marker)[payload]
    checkpoint = crafted(fitted_run, tmp_path, FIELDS[field], spec)
    for load in (ImageClassifier.load_from_checkpoint, ImageDataModule.load_from_checkpoint):
        with pytest.raises(LitDigitsError) as refused:
            load(checkpoint)
        message = str(refused.value)
        assert "\n" not in message and str(checkpoint) in message
        assert ".".join(map(str, FIELDS[field][1:2])) in message
    assert not marker.exists() and not side_effect_module.exists()
    assert SIDE_EFFECT_MODULE not in sys.modules


def test_a_name_where_a_spec_belongs_and_a_foreign_instantiator_are_refused(fitted_run, tmp_path):
    marker = tmp_path / "code_ran"
    for field, value in [(("hyper_parameters", "optimizer"), "os.system"),
                         (("hyper_parameters", "_instantiator"), "os.system")]:  # fmt: skip
        contents = torch.load(fitted_run / "checkpoints" / "best.ckpt", weights_only=True)
        contents[field[0]][field[1]] = value
        torch.save(contents, tmp_path / "crafted.ckpt")
        with pytest.raises(LitDigitsError, match=field[1]):
            ImageClassifier.load_from_checkpoint(tmp_path / "crafted.ckpt")
    assert not marker.exists()


def test_the_loader_builds_the_class_the_checkpoint_names_with_its_settings(fitted_run):
    model = ImageClassifier.load_from_checkpoint(fitted_run / "checkpoints" / "best.ckpt", map_location="cpu")
    data = ImageDataModule.load_from_checkpoint(fitted_run / "checkpoints" / "best.ckpt", data_dir="elsewhere")
    assert type(model).__name__ == "TPUConvNet" and type(model.net).__name__ == "ConvNet"
    assert type(data).__name__ == "MNISTDataModule" and data.batch_size == 16 and str(data.data_dir) == "elsewhere"


@pytest.mark.parametrize("command", ["fit", "validate", "test", "predict", "report", "serve"])
def test_every_command_refuses_a_crafted_checkpoint_in_one_line_and_runs_nothing(
    command, fitted_run, tmp_path, side_effect_module, in_process
):
    marker = tmp_path / "code_ran"
    for payload in ("subprocess.run", "import side effect"):
        checkpoint = crafted(fitted_run, tmp_path, FIELDS["net"], payloads(marker)[payload])
        if command == "report":
            result = in_process.run_cli("report", str(checkpoint), "--out", str(tmp_path / "out"), cwd=tmp_path)
        elif command == "serve":  # refused before the server starts
            result = in_process.run_cli("serve", str(checkpoint), "--port", str(free_port()), cwd=tmp_path)
        elif command == "fit":
            result = in_process.fit(
                "mnist", fitted_run.parents[2] / "data", "--ckpt_path", str(checkpoint), cwd=tmp_path
            )
        else:
            data = ("--data.data_dir", str(fitted_run.parents[2] / "data"))
            result = in_process.run_cli(command, "--config", MNIST, *data, "--ckpt_path", str(checkpoint), cwd=tmp_path)
        assert_one_line_refusal(result, "hyper_parameters.net.class_path")
    assert not marker.exists() and not side_effect_module.exists()
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


def test_a_network_of_the_users_own_package_trains_tests_and_reports_by_their_word(
    mnist_dir, tmp_path, monkeypatch, in_process
):
    (tmp_path / "my_nets.py").write_text(
        "import torch\n"
        "class TinyNet(torch.nn.Sequential):\n"
        "    def __init__(self, hidden: int = 8):\n"
        "        super().__init__(torch.nn.Flatten(), torch.nn.Linear(784, hidden), torch.nn.ReLU(),\n"
        "                         torch.nn.Linear(hidden, 10))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    net = ("--model.net.class_path", "my_nets.TinyNet")
    recipe = ("--config", MNIST, "--data.data_dir", str(mnist_dir), "--data.batch_size", "16", *net)
    assert in_process.fit("mnist", mnist_dir, *net, cwd=tmp_path).returncode == 0
    checkpoint = next((tmp_path / "runs").glob("*/version_0/checkpoints/last.ckpt"))
    tested = in_process.run_cli("test", *recipe, "--ckpt_path", str(checkpoint), cwd=tmp_path)  # named: trusted
    assert tested.returncode == 0, tested.stderr
    refused = in_process.run_cli("report", str(checkpoint), cwd=tmp_path)
    assert_one_line_refusal(refused, "--trusted_modules")
    reported = in_process.run_cli("report", str(checkpoint), "--trusted_modules", "my_nets", cwd=tmp_path)
    assert reported.returncode == 0, reported.stderr
    model = ImageClassifier.load_from_checkpoint(checkpoint, trusted_modules=["my_nets"])
    assert type(model.net).__name__ == "TinyNet"


def _legacy_hparams(contents: dict, marker: Path) -> None:
    contents["hparams"] = {"lr_schedule": {"class_path": "os.system", "init_args": {"command": f"touch {marker}"}}}


def _hparams_name(contents: dict, marker: Path) -> None:
    contents["hparams_name"] = "net"
    contents["hyper_parameters"]["class_path"] = "os.system"


def _module_list_of_names(contents: dict, marker: Path) -> None:
    contents["hyper_parameters"]["net"] = {"class_path": "torch.nn.ModuleList", "init_args": {"modules": ["this.X"]}}


def _groups_as_yaml_text(contents: dict, marker: Path) -> None:
    contents["hyper_parameters"]["param_groups"] = (
        f'[{{"params": ["net.*"], "optimizer": {{"class_path": "{SIDE_EFFECT_MODULE}.Opt"}}}}]'
    )


def _private_module_of_a_named_package(contents: dict, marker: Path) -> None:
    contents["hyper_parameters"]["net"] = {"class_path": "lit_digits.__main__.main", "init_args": {}}


def _weights_of_another_network(contents: dict, marker: Path) -> None:
    contents["state_dict"] = {"net.0.weight": torch.zeros(3)}


def _an_argument_the_model_does_not_take(contents: dict, marker: Path) -> None:
    contents["hyper_parameters"]["dropout_rate"] = 0.5


def _no_weights(contents: dict, marker: Path) -> None:
    del contents["state_dict"]


def _nested_hundreds_deep(contents: dict, marker: Path) -> None:
    deep: dict = {}
    for _ in range(200):
        deep = {"init_args": {"stem": deep}}
    contents["hyper_parameters"]["net"]["init_args"]["stem"] = deep


def _a_value_of_the_wrong_type(contents: dict, marker: Path) -> None:
    contents["hyper_parameters"]["ema_every_n_steps"] = "often"


SHAPES = [_legacy_hparams, _hparams_name, _module_list_of_names, _groups_as_yaml_text,
          _private_module_of_a_named_package, _weights_of_another_network, _an_argument_the_model_does_not_take,
          _no_weights, _nested_hundreds_deep, _a_value_of_the_wrong_type]  # fmt: skip
"""Checkpoints that name code where the rules look less obviously, or that do not fit their model."""


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__.strip("_"))
@pytest.mark.parametrize("reader", ["load_from_checkpoint", "report", "test"])
def test_checkpoints_that_hide_code_or_do_not_fit_are_one_line_and_run_nothing(
    shape, reader, fitted_run, tmp_path, side_effect_module, in_process
):
    marker = tmp_path / "code_ran"
    contents = torch.load(fitted_run / "checkpoints" / "best.ckpt", weights_only=True)
    shape(contents, marker)
    checkpoint = tmp_path / "crafted.ckpt"
    torch.save(contents, checkpoint)
    if reader == "load_from_checkpoint":
        with pytest.raises(LitDigitsError) as refused:
            ImageClassifier.load_from_checkpoint(checkpoint)
        assert "\n" not in str(refused.value)
    else:
        data = ("--data.data_dir", str(fitted_run.parents[2] / "data"))
        args = ("report", str(checkpoint)) if reader == "report" else ("test", "--config", MNIST, *data)
        result = in_process.run_cli(*args, *(() if reader == "report" else ("--ckpt_path", str(checkpoint))),
                                    cwd=tmp_path)  # fmt: skip
        assert_one_line_error(result)
        assert "Zen of Python" not in result.stdout, result.stderr
    assert not marker.exists() and not side_effect_module.exists()
    assert "this" not in sys.modules or shape is not _module_list_of_names


def test_a_checkpoint_at_a_web_address_is_refused_before_anything_is_fetched(tmp_path, in_process):
    url = "http://127.0.0.1:9/model.ckpt"
    result = in_process.run_cli("test", "--config", MNIST, "--ckpt_path", url, cwd=tmp_path)
    assert result.returncode == 1 and result.stderr.strip().endswith("download it, and pass its path")


def test_trusted_modules_given_as_one_name_trusts_that_module_only(fitted_run, tmp_path):
    checkpoint = crafted(fitted_run, tmp_path, FIELDS["net"], {"class_path": "o.Net", "init_args": {}})
    with pytest.raises(LitDigitsError, match="o.Net is not a class of"):
        ImageClassifier.load_from_checkpoint(checkpoint, trusted_modules="os")  # not o, s
