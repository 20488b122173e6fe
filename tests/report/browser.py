"""Headless Chromium (Debian's ``chromium``) for page tests: a screenshot, the DOM after
rendering, and Chromium's own network log, which records every request the page made.

Each call starts a fresh browser with its own profile folder and waits for it to exit. When
Chromium is missing the test is skipped, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (apt-get install chromium); CI needs it")
        pytest.skip("chromium is not installed")
    return found


@dataclass
class Rendered:
    dom: str
    png: bytes
    #: Every URL the page asked the network for (not the browser's own background traffic).
    page_requests: list[str]


def render(page: Path, work: Path, size: str = "1280,1600") -> Rendered:
    browser = chromium_path()
    work.mkdir(parents=True, exist_ok=True)
    url = page.resolve().as_uri()
    netlog = work / "netlog.json"
    dom = _run(
        [
            browser,
            *_FLAGS,
            f"--user-data-dir={work / 'profile-dom'}",
            f"--log-net-log={netlog}",
            "--dump-dom",
            url,
        ]
    )
    shot = work / "shot.png"
    _run(
        [
            browser,
            *_FLAGS,
            f"--user-data-dir={work / 'profile-shot'}",
            f"--window-size={size}",
            f"--screenshot={shot}",
            url,
        ]
    )
    return Rendered(dom, shot.read_bytes(), page_requests(netlog))


def _run(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def page_requests(netlog: Path) -> list[str]:
    """URLs of requests started on behalf of a file:// page (its network isolation key is the
    file origin), other than file: and data: URLs themselves."""
    data = json.loads(netlog.read_text(encoding="utf-8"))
    start = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    found = []
    for event in data["events"]:
        params = event.get("params") or {}
        if event["type"] != start or "url" not in params:
            continue
        if "file://" not in str(params.get("network_isolation_key", "")):
            continue
        if not params["url"].startswith(("file:", "data:")):
            found.append(params["url"])
    return found


# ----- PNG, with the standard library -------------------------------------------------------


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit truecolour PNG, filters undone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), f"unexpected PNG format {depth}/{colour}"
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def ink(png: bytes, step: int = 4) -> tuple[float, int]:
    """The share of sampled pixels that are not the background colour, and how many distinct
    colours were sampled: a blank page gives (0.0, 1)."""
    width, height, rows = decode_png(png)
    channels = len(rows[0]) // width
    background = rows[0][:3]
    colours: set[bytes] = set()
    inked = total = 0
    for y in range(0, height, step):
        row = rows[y]
        for x in range(0, width, step):
            pixel = row[x * channels : x * channels + 3]
            colours.add(pixel)
            total += 1
            inked += pixel != background
    return inked / total, len(colours)


# ----- the DOM ------------------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))


def elements(dom: str) -> list[Element]:
    parser = _Collector()
    parser.feed(dom)
    return parser.elements


def with_class(dom: str, tag: str, cls: str) -> list[Element]:
    return [e for e in elements(dom) if e.tag == tag and cls in e.attrs.get("class", "").split()]
