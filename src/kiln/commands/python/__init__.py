"""`kiln python list`, `find` and `pin`: the interpreters kiln finds, and which one it uses."""
