"""The demo report in a real browser: phone and desktop widths, and printed to PDF.

Headless Chromium (Debian's package, via selenium) loads ``release/report.html`` of the demo
run at 400 and 1280 px: the page must not scroll sideways (tables scroll inside their own box,
figures scale), every image must decode and the console must stay clean. Printed to PDF on A4
and Letter, no table row may be split across two pages. The printed percent changes must
follow from the means printed in the same row.
"""

from __future__ import annotations

import base64
import re
from importlib import resources
from io import BytesIO

import pytest
from browser_helpers import chromium

from coaching_trials.pipeline import run_analysis


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    config = resources.files("coaching_trials") / "configs" / "demo.toml"
    out = tmp_path_factory.mktemp("demo") / "out"
    with resources.as_file(config) as path:
        run = run_analysis(path, out=out, overrides={"analysis.n_boot": 20})
    return run.out / "release" / "report.html"


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


@pytest.mark.parametrize("width", [400, 1280])
def test_no_sideways_scrolling_images_decode_console_clean(browser, demo_report, width):
    browser.set_window_size(width, 900)
    browser.get(demo_report.as_uri())
    inner = browser.execute_script("return window.innerWidth")
    scroll = browser.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= inner, (scroll, inner)
    sizes = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
    )
    assert len(sizes) >= 10 and all(done and w > 0 for done, w in sizes)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    headline = browser.execute_script("return document.querySelector('.headline').innerText")
    assert "Burnout" in headline and "CI" in headline


def _pdf_pages(browser, width_cm: float, height_cm: float) -> list[str]:
    from pypdf import PdfReader
    from selenium.webdriver.common.print_page_options import PrintOptions

    options = PrintOptions()
    options.page_width = width_cm
    options.page_height = height_cm
    data = base64.b64decode(browser.print_page(options))
    reader = PdfReader(BytesIO(data))
    return [page.extract_text() or "" for page in reader.pages]


def _rows(browser) -> list[list[str]]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('table.ct-table tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.innerText))"
    )


@pytest.mark.parametrize(("paper", "size"), [("A4", (21.0, 29.7)), ("Letter", (21.59, 27.94))])
def test_printed_rows_are_never_split(browser, demo_report, paper, size):
    browser.set_window_size(1280, 900)
    browser.get(demo_report.as_uri())
    rows = _rows(browser)
    # words hyphenated at a line end ("hospital- based") are joined again
    texts = [re.sub(r"(\w)- (\w)", r"\1-\2", t) for t in _pdf_pages(browser, *size)]
    pages = [set(text.split()) for text in texts]
    assert len(pages) >= 2
    split = []
    for row in rows:
        tokens = {t for cell in row for t in re.sub(r"(\w)- (\w)", r"\1-\2", cell).split()}
        if tokens and not any(tokens <= page for page in pages):
            split.append(row)
    assert split == [], f"{paper}: rows split across pages: {split[:3]}"


def test_printed_percent_changes_follow_from_the_printed_means(browser, demo_report):
    browser.set_window_size(1280, 900)
    browser.get(demo_report.as_uri())
    table = browser.execute_script(
        "const s = document.querySelector('#percent-change table');"
        "return Array.from(s.rows).map(r => Array.from(r.cells).map(c => c.innerText))"
    )
    header, body = table[0], table[1:]
    b, e, p = (
        header.index("Baseline mean"),
        header.index("Endpoint mean"),
        header.index("Percent change"),
    )
    checked = 0
    for row in body:
        if not re.fullmatch(r"-?\d+\.\d{3}", row[b]) or not row[p].endswith("%"):
            continue
        base, end, printed = float(row[b]), float(row[e]), float(row[p].rstrip("%"))
        # the true means lie within half a printed unit; so does the true percent change
        lo = 100 * ((end - 0.0005) / (base + 0.0005) - 1)
        hi = 100 * ((end + 0.0005) / (base - 0.0005) - 1)
        assert lo - 0.05 <= printed <= hi + 0.05, (row, lo, hi)
        checked += 1
    assert checked >= 10
