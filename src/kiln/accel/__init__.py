"""Accelerators: what this machine has, and which torch backend (index variant) it runs.

`machine.detect()` describes the machine, `choose.runnable`/`fits`/`choose` apply the rule,
and the numbers behind the rule (drivers, compiled arch lists, gfx targets) are data under
`data/`. Nothing is imported here: a command that only names a backend must not pay for
detection.
"""
