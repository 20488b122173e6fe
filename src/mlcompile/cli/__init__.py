"""The command line. ``main`` holds only the command signatures; each implementation module is
imported when its command runs, so ``--help`` and ``check`` never import a platform SDK."""
