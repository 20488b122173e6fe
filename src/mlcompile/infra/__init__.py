"""Infrastructure: the Pulumi stack each pipeline needs on its cloud, per environment.

``generator`` writes a Pulumi project from the IR and a profile without importing any Pulumi
provider; the per-cloud component modules (``aws``, ``gcp``, ``azure``, ``kubernetes``) are what
the generated programs import, and ``policy`` checks what a stack registers.
"""
