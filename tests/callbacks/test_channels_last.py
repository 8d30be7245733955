"""``ChannelsLast``: a fit with the callback trains with NHWC weights."""

import lightning as L
import torch

from lit_digits import ChannelsLast, CIFAR10DataModule, DavidNet
from lit_digits.nets import ResNet9
from lit_digits.schedules import PiecewiseLinear


def test_channels_last_callback_trains_with_nhwc_weights(cifar_dir):
    model = DavidNet(net=ResNet9(width=4), lr_schedule=PiecewiseLinear(epochs=[0, 1], lrs=[0.4, 0.0]))
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        callbacks=[ChannelsLast()])  # fmt: skip
    trainer.fit(model, CIFAR10DataModule(cifar_dir, batch_size=16))
    conv = model.net[0][0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.isfinite(trainer.callback_metrics["val_loss"])
