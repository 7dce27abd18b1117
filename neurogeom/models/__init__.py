"""Networks used in the seed's experiments."""

from .shallow import ShallowNet

__all__ = ["ShallowNet"]
