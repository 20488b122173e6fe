"""Executors of the compiled files: the KFP v2 IR (Kubeflow, Vertex) and the SageMaker
pipeline definition, run on this machine with each platform's documented semantics."""
