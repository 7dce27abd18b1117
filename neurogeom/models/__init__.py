"""Networks used in the seed's experiments."""

from .shallow import ShallowNet

__all__ = ["ShallowNet"]

from .barlow import BarlowAugment, BarlowTwins, LinearProbe, Projector, barlow_twins_loss
from .resnet import ResNet, StagePool

__all__ += [
    "BarlowAugment",
    "BarlowTwins",
    "LinearProbe",
    "Projector",
    "ResNet",
    "StagePool",
    "barlow_twins_loss",
]
