"""The page shell every report shares: escaping, anchors, the stylesheet, and a content security
policy that forbids the page any network access (``default-src 'none'``)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2430;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d6dbe3}
h3{font-size:15px;margin:18px 0 6px}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #d6dbe3;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f8}.muted{color:#5d6675}.scroll{overflow-x:auto;border:1px solid #e3e7ee;padding:8px;background:#fbfcfd}
.badge{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;border:1px solid #aab2bf}
.mapped,.b-done{background:#e3f6e8;border-color:#58a36c}.lowered,.b-cached{background:#fff4d6;border-color:#c89a2a}
.refused,.b-failed,.b-upstream_failed{background:#fde4e4;border-color:#c84a4a}.b-skipped,.b-pending{background:#eef0f3}
.b-interrupted{background:#fde9d6;border-color:#c8742a}.b-running{background:#e2ecfb;border-color:#4a78c8}
.warning{background:#fff8e6;border-left:4px solid #c89a2a;padding:4px 8px;margin:4px 0}
.cols{display:flex;flex-wrap:wrap;gap:16px}.cols>div{flex:1 1 320px}
svg.dag text{font:12px ui-monospace,Menlo,Consolas,monospace;fill:#1d2430}svg.dag text.sub{fill:#5d6675;font-size:11px}
svg.dag .step rect{fill:#f3f5f8;stroke:#7d8796;stroke-width:1.2}svg.dag .group rect{fill:none;stroke:#9aa3b1;stroke-dasharray:5 3}
svg.dag .g-then rect{stroke:#58a36c}svg.dag .g-otherwise rect{stroke:#c84a4a}svg.dag .g-loop rect{stroke:#4a78c8}
svg.dag .g-pipeline rect{stroke:#6c4ac8;stroke-dasharray:none}svg.dag .g-final rect{stroke:#c8742a}
svg.dag .edge{fill:none;stroke:#8a93a1;stroke-width:1.2}svg.dag marker path{fill:#8a93a1}
svg.dag .step.s-mapped rect,svg.dag .step.s-done rect{fill:#e3f6e8;stroke:#58a36c}svg.dag .step.s-lowered rect,svg.dag .step.s-cached rect{fill:#fff4d6;stroke:#c89a2a}
svg.dag .step.s-refused rect,svg.dag .step.s-failed rect,svg.dag .step.s-upstream_failed rect{fill:#fde4e4;stroke:#c84a4a}
svg.dag .step.s-skipped rect{fill:#eef0f3;stroke:#aab2bf;stroke-dasharray:4 3}svg.dag .step.s-interrupted rect{fill:#fde9d6;stroke:#c8742a}
svg.dag .step.s-running rect{fill:#e2ecfb;stroke:#4a78c8}svg.dag .group.s-refused rect{stroke:#c84a4a;stroke-width:2}
svg.timeline text{font:11px ui-monospace,Menlo,Consolas,monospace;fill:#1d2430}svg.timeline .bar{fill:#58a36c}
svg.timeline .t-cached{fill:#c89a2a}svg.timeline .t-failed,svg.timeline .t-upstream_failed{fill:#c84a4a}
svg.timeline .t-skipped{fill:#aab2bf}svg.timeline .t-interrupted{fill:#c8742a}svg.timeline line{stroke:#d6dbe3}
ul.lineage{margin:2px 0 2px 18px;padding:0}ul.lineage li{margin:2px 0}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def anchor(kind: str, name: str) -> str:
    """An HTML id for a step or an artifact: every unsafe character spelt as its code point."""
    return f"{kind}-" + _UNSAFE.sub(lambda m: f".{ord(m.group()):x}.", name)


def page(title: str, body: Iterable[str]) -> bytes:
    """A complete, self-contained HTML document."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS.strip()}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    ).encode()


def table(headers: list[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    """Cells are HTML already (escape text with :func:`esc` first)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    head = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}>{head}<tbody>{body}</tbody></table>"


def badge(status: str, text: str | None = None) -> str:
    return f'<span class="badge {esc(status)} b-{esc(status)}">{esc(text or status)}</span>'
