"""kiln: a fast Python package and project manager that gets PyTorch right."""

__version__ = "0.1.0"
