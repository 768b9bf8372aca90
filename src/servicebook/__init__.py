"""Servicebook: the system an IT service provider runs its internal and external customers on."""

__version__ = "0.1.0"
