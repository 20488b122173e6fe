"""Deploying a compiled build: upload what the platform downloads, upsert the pipeline, run it.

One module per platform; each takes the build folder ``mlcompile compile`` wrote and a client
session, so tests drive it against local stand-ins for the cloud.
"""
