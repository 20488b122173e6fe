"""The step-side runtime: the same code calls the user's function in every platform's container
and in the local runner. It uses only the standard library (and the artifact classes), so a
step image needs nothing but mlcompile and the step's own packages."""
