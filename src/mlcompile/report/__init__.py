"""Static HTML pages: the build report (``report.html``) and the view of a local run.

Every page is one self-contained file: inline SVG and CSS, no script, no network. The DAG is
laid out here, deterministically, so the same build gives the same bytes on every machine.
"""
