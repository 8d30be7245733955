"""LightningDataModules for MNIST and CIFAR-10, and their batched augmentations."""

from lit_digits.data.cifar import CIFAR10DataModule
from lit_digits.data.datamodule import DEFAULT_DATA_DIR, ImageDataModule
from lit_digits.data.mnist import MNISTDataModule

__all__ = ["DEFAULT_DATA_DIR", "CIFAR10DataModule", "ImageDataModule", "MNISTDataModule"]
