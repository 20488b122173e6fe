"""Built-in operations that run inside step containers, called by the runtime like user steps.

``shared`` holds what every KFP backend runs (reading a metric, failing a run, registering a
model folder), ``kubeflow`` the KServe deployment and batch scoring, ``vertex`` the staging of
models and instances for Vertex's own services. Standard library only, like all of ``runtime``.
"""
