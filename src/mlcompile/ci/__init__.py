"""CI/CD for compiled pipelines: the workflows a repository runs (checks and a build diff on a
pull request, deploy to dev on merge, gated promotion on a release tag) and the semantic diff of
two builds. Nothing here imports a platform SDK."""
