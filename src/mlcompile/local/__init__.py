"""The embedded local runner: runs a pipeline's IR on this machine with caching and lineage.

The store (default ``.mlcompile/``) holds content-addressed artifacts, step logs and a SQLite
database of runs, steps, artifacts, registered models and endpoints. Nothing here imports a
platform SDK.
"""
