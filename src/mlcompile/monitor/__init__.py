"""Statistical monitoring: drift statistics, the comparison a monitor makes, and the local monitor.

``stats`` and ``compare`` use the standard library alone, so the same code runs in a slim
monitoring image on Kubeflow as in ``mlcompile monitor`` on a laptop.
"""
