"""Utilities for contributors and tests: :mod:`sklr.utils.discovery`."""
