"""Constants read on every run (the fingerprint of a lock names the PyTorch index base), kept
apart from the backend tables so that reading them loads no data file."""

DEFAULT_TORCH_INDEX_URL = "https://download.pytorch.org/whl"
