"""`kiln torch`: configure a project's PyTorch builds, and check the one an environment holds."""
