"""The commands of ``lit_digits``, one line each: ``lit_digits --help`` and each command's own help."""

COMMANDS = {
    "fit": "train a recipe into a new run folder, runs/<config>/version_N (--ckpt_path last resumes one)",
    "validate": "a checkpoint's loss and accuracy on the validation split (the test split by default)",
    "test": "a checkpoint's loss and accuracy on the test split",
    "predict": "classify your own images (--data.predict_path) with a checkpoint: path, class, probability",
    "report": "pictures of a run (curves, mistakes, confusion matrix), or of a recipe's learning-rate schedule",
    "export": "a run's network as an ONNX file or a torch.export program: raw images in, probabilities out",
    "serve": "a run's model as a local HTTP service (LitServe): POST an image, get its class and probabilities",
    "demo": "a web page to try a run's model: draw a digit or give an image, see the class probabilities",
}
"""Every command: LightningCLI's (the Trainer's methods), and ``report``, ``export``, ``serve`` and ``demo``,
which ``main`` runs itself."""


def front_door() -> str:
    """What ``lit_digits --help`` prints: the commands, how to start, where the options are."""
    width = max(map(len, COMMANDS))
    return "\n".join([
        "usage: lit_digits COMMAND [--config configs/RECIPE.yaml] [--section.key VALUE ...]",
        "",
        "The classic MNIST and CIFAR-10 recipes with PyTorch Lightning, on TPU, GPU or CPU.",
        "",
        "commands:",
        *(f"  {name:<{width}}  {line}" for name, line in COMMANDS.items()),
        "",
        "To start:",
        "  lit_digits fit --config configs/mnist.yaml",
        "  lit_digits test --config configs/mnist.yaml --ckpt_path best",
        "  lit_digits demo runs/mnist/version_0",
        "",
        "lit_digits COMMAND --help lists a command's options (for fit: every --trainer, --model and --data value).",
    ])  # fmt: skip
