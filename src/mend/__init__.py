"""Mend: the clinic system for medical massage therapy."""

__version__ = "0.1.0"
