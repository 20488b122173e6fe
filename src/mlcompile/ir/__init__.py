"""The pipeline IR: models (``nodes``), canonical JSON and hashing, walking, validation.

This package's ``__init__`` imports nothing, so ``from mlcompile import step`` in a step's own
process does not pay for pydantic: the DSL reaches the models only while a pipeline is built.
"""
