"""Reproducible experiments of the seed poster."""
