"""Regenerate the README's screenshots of the web page: a question asked, its citation [1] clicked.

Why a script: the page changes with the UI code, and pictures made by hand drift from it. This one
serves a temporary copy of the shipped corpus (index built first, so the model is warm), drives
Debian's Chromium with Playwright, and writes viewport-sized PNGs (small files) into
docs/screenshots/: the desktop page (1280×800), and on a phone (390×844) the chat after the answer
and the Article tab the citation opens.

    .venv/bin/python docs/screenshots.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from _common import PROJECT, SHIPPED_CORPUS, free_port, load_model, scratch_dir  # sets the offline environment

from assistant import Assistant
from ui.app import serve

CHROMIUM = Path("/usr/bin/chromium")
OUT = PROJECT / "docs" / "screenshots"
QUESTION = "How many of the 12 participants saw their symptoms subside?"
TIMEOUT_MS = 60_000


def ask_and_cite(page, question: str):
    """Ask in the page, wait for the answer's own [n] links, and return the answer's [1]."""
    links = page.locator('#chat a[href^="#cite:"]')
    page.locator("#chips button").first.wait_for(timeout=TIMEOUT_MS)  # overview and chips are in
    earlier = links.count()
    box = page.get_by_role("textbox", name="Ask a question")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('#chat a[href^=\"#cite:\"]').length > {earlier}",
                           timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)  # the chat scrolls to the end half a second after the answer
    return links.nth(earlier)


def shoot(browser, url: str) -> list[Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    shots = []

    def save(page, name: str) -> None:
        page.mouse.move(0, 0)  # no hover tooltip left over the picture
        page.wait_for_timeout(500)  # Gradio's buttons fade between colours
        page.screenshot(path=OUT / name)
        shots.append(OUT / name)

    desktop = browser.new_page(viewport={"width": 1280, "height": 800})
    desktop.goto(url)
    ask_and_cite(desktop, QUESTION).click()
    desktop.locator("#article .cited").first.wait_for()
    save(desktop, "desktop.png")

    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True,
                             has_touch=True)
    phone.goto(url)
    citation = ask_and_cite(phone, QUESTION)
    save(phone, "phone-chat.png")
    citation.click()
    phone.locator("#article .cited").first.wait_for()
    save(phone, "phone-article.png")
    return shots


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        sys.exit(f"needs Debian's chromium at {CHROMIUM}: apt-get install chromium")
    with scratch_dir("screenshots") as folder:
        corpus = folder / "corpus"
        corpus.mkdir()
        for article in SHIPPED_CORPUS.iterdir():
            shutil.copyfile(article, corpus / article.name)
        bot = Assistant(corpus_dir=corpus, data_dir=folder / "index", embeddings=load_model())
        bot.sync()
        bot.warm_up()
        port = free_port()
        app = serve(bot, port=port, block=False)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
                for path in shoot(browser, f"http://127.0.0.1:{port}/"):
                    print(f"{path.relative_to(PROJECT)}  {path.stat().st_size / 1024:.0f} KiB")
                browser.close()
        finally:
            app.close()


if __name__ == "__main__":
    main()
