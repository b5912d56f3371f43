"""gpubroker: find, rank and deploy GPU compute across providers."""

__version__ = "0.1.0"
