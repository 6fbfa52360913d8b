"""Save a phone screenshot of the survey's first page to docs/screenshot-survey.png.

    .venv/bin/python tests/e2e/make_screenshot.py [output.png]

Starts a live copy of the app on a temporary SQLite database with one
demo-like counter, opens its survey page in Debian's Chromium (/usr/bin/chromium)
as a 360x740 phone, and writes the PNG (reduced to a palette if it would be
over ~250 KB).
"""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.live import PHONE, browser_unavailable, launch_chromium, live_app  # noqa: E402

MAX_BYTES = 250_000
AGENCY = "Sở Tư pháp"
COUNTER = "Quầy Hộ tịch - Lý lịch tư pháp"


def _small_png(png: bytes) -> bytes:
    if len(png) <= MAX_BYTES:
        return png
    from PIL import Image  # flat colours: a 256-colour palette loses nothing visible

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshot-survey.png"
    reason = browser_unavailable()
    if reason:
        print(f"cannot take the screenshot: {reason}", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with live_app() as live, sync_playwright() as p:
        counter = live.counter(AGENCY, COUNTER)
        browser = launch_chromium(p)
        try:
            page = browser.new_context(**PHONE).new_page()
            reply = page.goto(f"{live.url}/s/{counter.code}")
            if reply is None or reply.status != 200:
                print(f"survey page answered {reply and reply.status}", file=sys.stderr)
                return 1
            png = _small_png(page.screenshot(type="png", animations="disabled"))
        finally:
            browser.close()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(png)
    print(f"wrote {output} ({len(png) // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
