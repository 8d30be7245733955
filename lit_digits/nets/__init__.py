"""The networks, as plain ``nn.Module``s that map normalized images to logits.

A recipe (``lit_digits.models``) pairs one of them with an optimizer and a learning-rate
schedule; a tutorial's network is a set of arguments to one of these classes, not a class.
"""

from lit_digits.nets.airbench import AirbenchNet
from lit_digits.nets.convnet import ConvNet
from lit_digits.nets.mlp import MLP
from lit_digits.nets.resnet9 import ResNet9

__all__ = ["MLP", "AirbenchNet", "ConvNet", "ResNet9"]
