"""Installing wheels: plan -> prepare (fetch, verify, unpack to the cache) -> link into an
environment; uninstall by RECORD; read what an environment has installed.
"""
