"""Each bad input a user can give: one clear line, a non-zero exit, nothing of theirs harmed.

The commands run in this process (``in_process``): what they print and their exit status are the
command's, not the interpreter's; ``test_cli`` runs ``python -m lit_digits`` itself."""

import pytest
import torch
from helpers.cli import CONFIGS, assert_one_line_error

MNIST = str(CONFIGS / "mnist.yaml")
CIFAR = str(CONFIGS / "cifar.yaml")


PARSER_REFUSALS = [
    (("--trainer.max_epochs", "ten"), "trainer:\n  max_epochs: ten\n", "trainer.max_epochs: expected an integer, got 'ten'"),
    (("--trainer.max_epochz", "3"), "trainer:\n  max_epochz: 3\n",
     "trainer.max_epochz: no such option (did you mean trainer.max_epochs?)"),
    (("--trainer.precision", "7"), "trainer:\n  precision: 7\n", "trainer.precision: expected one of 64, 32, 16,"),
    (("--model.init_args.lrr", "0.1"), "model:\n  init_args:\n    lrr: 0.1\n",
     "model.init_args.lrr: lit_digits.TPUConvNet takes no option 'lrr'"),
    (("--model.label_smoothin", "0.1"), "model:\n  init_args:\n    label_smoothin: 0.1\n",
     "takes no option 'label_smoothin' (did you mean label_smoothing?)"),
    (("--model.net.init_args.dropot", "0.1"), "model:\n  init_args:\n    net:\n      init_args:\n        dropot: 0.1\n",
     "model.init_args.net.init_args.dropot: lit_digits.nets.ConvNet takes no option 'dropot' (did you mean dropout?)"),
    (("--data.batch_size", "many"), "data:\n  init_args:\n    batch_size: many\n",
     "data.init_args.batch_size: expected an integer, got 'many'"),
    (("--model.net.class_path", "torch.optim.SGD"), "model:\n  init_args:\n    net:\n      class_path: torch.optim.SGD\n",
     "model.init_args.net: torch.optim.SGD is not a subclass of Module"),
    (("--model.optimizer.class_path", "torch.nn.Linear"),
     "model:\n  init_args:\n    optimizer:\n      class_path: torch.nn.Linear\n",
     "model.init_args.optimizer: torch.nn.Linear is not a subclass of Optimizer"),
    (("--model", "torch.nn.Linear"), "model: torch.nn.Linear\n", "model: torch.nn.Linear is not a subclass of ImageClassifier"),
    (("--model", "no_such_package.Model"), "model: no_such_package.Model\n", "model: cannot import no_such_package.Model"),
    (("--seed_everything", "abc"), "seed_everything: abc\n", "seed_everything: expected true or false or an integer"),
]  # fmt: skip


@pytest.mark.parametrize(("option", "yaml", "message"), PARSER_REFUSALS)
@pytest.mark.parametrize("where", ["command line", "config file"])
def test_a_value_the_parser_refuses_is_one_line_naming_key_and_what_it_takes(
    where, option, yaml, message, tmp_path, in_process
):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml)
    given = option if where == "command line" else ("--config", str(bad))
    assert_one_line_error(in_process.run_cli("fit", "--config", MNIST, *given, cwd=tmp_path), message, code=2)


@pytest.mark.parametrize("command", ["validate", "test", "predict"])
def test_every_subcommand_refuses_a_value_in_one_line(command, tmp_path, in_process):
    result = in_process.run_cli(command, "--config", MNIST, "--trainer.max_epochs", "ten", cwd=tmp_path)
    assert_one_line_error(result, "trainer.max_epochs: expected an integer, got 'ten'", code=2)


def test_help_and_print_config_keep_their_output(tmp_path, in_process):
    help_text = in_process.run_cli("fit", "--help", cwd=tmp_path)
    assert help_text.returncode == 0 and "--trainer.max_epochs" in help_text.stdout
    assert "--trusted_modules" in help_text.stdout
    printed = in_process.run_cli("fit", "--config", MNIST, "--print_config", cwd=tmp_path)
    assert printed.returncode == 0 and "class_path: lit_digits.TPUConvNet" in printed.stdout


def test_settings_lightning_refuses_give_its_message_in_one_line(fitted_run, tmp_path, in_process):
    data = fitted_run.parents[2] / "data"  # the run's tiny MNIST
    result = in_process.fit("mnist", data, "--trainer.val_check_interval", "1.5", cwd=tmp_path)
    assert_one_line_error(result, "invalid value 1.5 for val_check_interval", "--print_config")


def test_a_fit_without_a_logger_is_refused_as_it_would_have_no_run_folder(fitted_run, tmp_path, in_process):
    data = fitted_run.parents[2] / "data"  # the run's tiny MNIST
    result = in_process.fit("mnist", data, "--trainer.logger", "false", cwd=tmp_path)
    assert_one_line_error(result, "--trainer.logger false would leave it without", "leave --trainer.logger unset")
    assert not list(tmp_path.iterdir())


def test_colour_model_on_mnist_is_refused_before_training(fitted_run, tmp_path, in_process):
    data = fitted_run.parents[2] / "data"  # the run's tiny MNIST
    result = in_process.fit("mnist", data, "--model", "DavidNet", cwd=tmp_path)
    assert_one_line_error(result, "DavidNet takes 3-channel images but MNISTDataModule gives 1-channel 28x28")
    assert not (tmp_path / "runs" / "mnist" / "version_0" / "metrics.csv").exists()


def test_checkpoint_of_another_recipe_is_refused(fitted_run, cifar_dir, in_process):
    work = fitted_run.parents[2]  # the run's working directory
    checkpoint = work / "runs" / "mnist" / "version_0" / "checkpoints" / "best.ckpt"
    before = checkpoint.read_bytes()
    result = in_process.run_cli("test", "--config", CIFAR, "--data.data_dir", str(cifar_dir), "--ckpt_path",
                                str(checkpoint), cwd=work)  # fmt: skip
    assert_one_line_error(result, "TPUConvNet takes 1-channel images but CIFAR10DataModule gives 3-channel")
    assert checkpoint.read_bytes() == before


def test_truncated_data_file_is_reported_and_kept(mnist_dir, tmp_path, in_process):
    path = mnist_dir / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-5])
    before = path.read_bytes()
    result = in_process.fit("mnist", mnist_dir, cwd=tmp_path)
    assert_one_line_error(result, "t10k-labels-idx1-ubyte is truncated or corrupt")
    assert path.read_bytes() == before


def test_data_dir_that_cannot_be_created_is_refused(tmp_path, in_process):
    blocker = tmp_path / "a_file"
    blocker.write_text("mine")
    result = in_process.run_cli("fit", "--config", CIFAR, "--data.data_dir", str(blocker / "data"), cwd=tmp_path)
    assert_one_line_error(result, f"cannot create data_dir {blocker / 'data'}", "writable --data.data_dir")
    assert blocker.read_text() == "mine"


@pytest.mark.parametrize("content", ["empty folder", "only a text file"])
def test_predict_without_any_readable_image_is_refused(fitted_run, tmp_path, content, in_process):
    work = fitted_run.parents[2]  # the run's working directory
    folder = tmp_path / "images"
    folder.mkdir()
    if content == "only a text file":
        (folder / "notes.txt.png").write_text("hello")
    result = in_process.run_cli(
        "predict", "--config", MNIST, "--ckpt_path", "best", "--data.predict_path", str(folder), cwd=work
    )
    assert_one_line_error(result, "no readable image")


@pytest.mark.parametrize(
    ("config", "setting", "value", "message"),
    [
        ("mnist", "--data.batch_size", "0", "batch_size must be at least 1"),
        ("mnist", "--data.padding_mode", "mirror", "padding_mode must be"),
        ("mnist", "--data.crop_padding", "-1", "must not be negative"),
        ("mnist", "--data.crop_padding", "28", "crop_padding must be smaller than the images' side (28)"),
        ("cifar", "--data.cutout_size", "40", "cutout_size at most it; got 4 and 40"),
        ("mnist", "--data.val_size", "-5", "must not be negative"),
        ("mnist", "--model.lr_schedule.init_args.decay_steps", "0", "decay_steps must be > 0"),
        ("mnist", "--model.lr_schedule.init_args.lr", "-0.1", "lr must be a learning rate >= 0"),
        ("mnist", "--model.net.init_args.dropout", "1.5", "dropout must be in [0, 1)"),
        ("mnist", "--model.net.init_args.conv_activation", "tanhh", "activation must be one of"),
        ("mnist", "--model.net.init_args.channels", "[4, 8]", "one entry per convolution"),
        ("mnist", "--model.label_smoothing", "2", "label_smoothing must be in [0, 1]"),
        ("mnist", "--model.compile_mode", "fastest", "mode (model.compile_mode in older configs) must be one of"),
        ("mnist", "--model.std", "[0]", "std > 0"),
        ("mnist", "--model.ema_decay", "1.0", "WeightAverage needs a decay in (0, 1)"),
        ("mnist", "--model.ema_every_n_steps", "0", "ema_every_n_steps must be at least 1"),
        ("mnist", "--model.bias_lr_factor", "0", "bias_lr_factor must be > 0"),
        ("mnist", "--data.init_args.flip", "sideways", "flip must be true, false or alternating"),
        ("mnist", "--trainer.accelerator", "banana", "'banana' is not an accelerator; pick auto, cpu, gpu"),
        ("mnist", "--ckpt_path", "nowhere.ckpt", "checkpoint nowhere.ckpt not found"),
        ("mnist", "--seed_everything", "-1", "seed_everything must be from 0 to 4294967295"),
        ("mnist", "--trainer.accumulate_grad_batches", "0", "accumulate_grad_batches must be at least 1"),
        ("mnist", "--trainer.check_val_every_n_epoch", "0", "check_val_every_n_epoch must be at least 1"),
        ("mnist", "--trainer.num_nodes", "0", "num_nodes must be at least 1"),
        ("mnist", "--trainer.val_check_interval", "0", "val_check_interval must be > 0"),
        ("mnist", "--trainer.devices", "-2", "should be an int > 0. Change that --trainer setting"),
        ("mnist", "--trainer.strategy", "banana", "invalid strategy name"),
        ("mnist", "--trainer.barebones", "true", "disabled in barebones mode. Change that --trainer setting"),
        ("mnist", "--trainer.default_root_dir", "/proc/nope", "No such file or directory: /proc/nope"),
        ("cifar", "--model.net.init_args.width", "0", "width must be at least 1"),
        ("cifar", "--model.lr_schedule.init_args.peak_epoch", "-1", "peak_epoch must be >= 0"),
        ("cifar_fast", "--model.net.init_args.prep", "patches", "prep must be one of conv, whitening"),
        ("cifar_fast", "--model.net.init_args.activation", "gelu", "activation must be one of relu, celu"),
        ("cifar_fast", "--model.net.init_args.ghost_batch_splits", "0", "ghost_batch_splits must be at least 1"),
        ("cifar_fast", "--model.net.init_args.celu_alpha", "0", "celu_alpha must be positive"),
        ("cifar_fast", "--model.lr_schedule.init_args.epochs", "[8, 2, 0]", "not decreasing"),
        ("cifar_fast", "--model.lr_schedule.init_args.lrs", "[0.1]", "same number"),
    ],
)
def test_a_value_a_class_refuses_while_the_config_is_built_is_one_line(
    config, setting, value, message, tmp_path, in_process
):
    result = in_process.run_cli("fit", "--config", str(CONFIGS / f"{config}.yaml"), setting, value, cwd=tmp_path)
    assert_one_line_error(result, message)


def test_a_batch_larger_than_the_training_set_is_refused(mnist_dir, tmp_path, in_process):
    result = in_process.fit("mnist", mnist_dir, "--data.batch_size", "200", cwd=tmp_path)  # fit's own 16 comes first
    assert_one_line_error(result, "batch_size 200 is larger than the 96 training images")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_gpu_on_a_machine_without_one_says_so_and_what_to_pick(tmp_path, in_process):
    result = in_process.run_cli("fit", "--config", MNIST, "--trainer.accelerator", "gpu", cwd=tmp_path)
    assert_one_line_error(result, "--trainer.accelerator gpu found no CUDA GPU on this machine", "pick cpu, or auto")
