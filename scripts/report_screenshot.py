"""The README's picture of ``corruptgen report``: the bundled sample's build (the default COCO-C and
its geometric cells) reported and photographed in headless Chromium.

    python scripts/report_screenshot.py [--chromium /usr/bin/chromium]   # writes docs/report.png

Needs Playwright (the test extra) and a Chromium (Debian's ``chromium`` package).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

DOC = Path(__file__).resolve().parent.parent / "docs" / "report.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=shutil.which("chromium"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        tree, html = Path(tmp) / "coco-geo", Path(tmp) / "coco-geo.html"
        run = [sys.executable, "-m", "corruptgen"]
        subprocess.run([*run, "build", "coco", "--out", str(tree), "--corruptions", "fog,shear,rotate,scale",
                        "--quiet"], check=True)  # fmt: skip
        subprocess.run([*run, "report", str(tree), "--samples", "2", "--out", str(html)], check=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(html.resolve().as_uri(), wait_until="load")
            top = page.evaluate("document.querySelector('#grid h3').getBoundingClientRect().top + window.scrollY")
            shot = Path(tmp) / "shot.png"
            page.screenshot(path=str(shot), clip={"x": 0, "y": top - 10, "width": 1000, "height": 560}, full_page=True)
            browser.close()
        Image.open(shot).convert("RGB").quantize(colors=255, method=Image.Quantize.MEDIANCUT).save(DOC, optimize=True)
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
