"""Data sets of the seed's experiments."""

from .toy import sinusoid_task

__all__ = ["sinusoid_task"]
