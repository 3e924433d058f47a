"""Test support: synthetic wheels and a local package index over HTTP."""
