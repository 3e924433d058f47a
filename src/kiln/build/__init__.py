"""PEP 517/660 build frontend: isolated build environments and a cache of built wheels.

`builder.Frontend` builds; `distributions.build_distributions` is `kiln build`. Nothing is
imported here, so that a command that builds nothing does not load the hook machinery.
"""
