"""The reading-and-chat page in Chromium: a real ``serve`` over a corpus folder of this module's own.

One server and one browser for the module (the model loads once); each test opens its own browser
context, so its localStorage (the saved conversations) starts empty. The upload test adds an
article to the corpus; tests that follow may see two articles and pick the seed by title.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from assistant import Assistant  # first: sets the offline environment before gradio is imported
from test_web import CHROMIUM, EXPECTED_QUOTE, NEW_ARTICLE, NEW_TITLE, QUESTION, SEED_TITLE, _start

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
ANSWER_TIMEOUT = 60_000
CITATION_LINKS = '#chat a[href^="#cite:"]'
NEW_QUESTION = "How many packets did the library hand out in the first month?"
# WCAG contrast of an element's text (or its ::placeholder) against what is drawn behind it: the first
# opaque background up its ancestors with the translucent ones over it, and the text's colour faded by
# every ancestor's opacity (Gradio draws chat text at 0.8).
CONTRAST = """([selector, pseudo]) => {
  const rgba = (text) => { const v = text.match(/[\\d.]+/g).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const luminance = (c) => c.slice(0, 3).map((v) => v / 255).map((v) => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  function ratio(element) {
    const layers = [];
    let opacity = 1;
    for (let e = element; e; e = e.parentElement) {
      const style = getComputedStyle(e), fill = rgba(style.backgroundColor);
      opacity *= Number(style.opacity);
      if (fill[3] > 0 && (!layers.length || layers[layers.length - 1][3] < 1)) layers.push(fill);
    }
    const back = layers.reverse().reduce((under, layer) => over(layer, under), [255, 255, 255, 1]);
    const text = rgba(getComputedStyle(element, pseudo).color);
    text[3] *= opacity;
    const [light, dark] = [luminance(over(text, back)), luminance(back)].sort((a, b) => b - a);
    return (light + 0.05) / (dark + 0.05);
  }
  const shown = [...document.querySelectorAll(selector)]
    .filter((e) => e.checkVisibility({opacityProperty: true, visibilityProperty: true}));
  return shown.length ? Math.min(...shown.map(ratio)) : null;
}"""
# Placeholder and secondary text (labels, meta line, the collapsed Sources line, status), plus the answers.
CONTRAST_CHECKS = {
    "placeholder": ("#question textarea", "::placeholder"),
    "control labels": ("[data-testid=block-info]", None),
    "article source and date": ("#article .article-meta", None),
    "collapsed Sources line": ("#chat .thought-group .duration", None),
    "answer text": ("#chat .bot .prose", None),
    "library status": ("#status", None),
    "suggestion chips": ("#chips button", None),
}
TAP_TARGETS = '#chat a[href^="#cite:"], #chips button, [role=tab], button, [role=button], [role=combobox]'


@pytest.fixture(scope="module")
def server(web_corpus, embedding_model):
    # An "OpenAI-compatible server" on a closed port: choosing it must fail its probe.
    bot = Assistant(corpus_dir=web_corpus, data_dir=web_corpus.parent / "index", embeddings=embedding_model,
                    openai_base_url="http://127.0.0.1:9/v1", openai_model="any")
    url, app = _start(bot)
    yield url, bot
    app.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def _open(browser, url: str, width: int = 1280, height: int = 800, context=None):
    from playwright.sync_api import expect

    page = (context or browser.new_context(viewport={"width": width, "height": height})).new_page()
    page.goto(url)
    expect(page.locator("#chips button").first).to_be_visible(timeout=ANSWER_TIMEOUT)  # overview and chips are in
    return page


def _ask(page, question: str, expected: str) -> None:
    from playwright.sync_api import expect

    links = page.locator(CITATION_LINKS)
    earlier = links.count()
    box = page.get_by_role("textbox", name="Ask a question")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#chat")).to_contain_text(expected, timeout=ANSWER_TIMEOUT)
    page.wait_for_function(f"() => document.querySelectorAll('{CITATION_LINKS}').length > {earlier}",
                           timeout=ANSWER_TIMEOUT)  # the answer's own [n] links are in


def _choose_article(page, title: str) -> None:
    page.get_by_label("Article").click()
    page.get_by_role("option", name=title).click()


def test_two_panes_and_a_citation_highlights_its_quote(server, browser):
    from playwright.sync_api import expect

    url, bot = server
    page = _open(browser, url)
    pane = page.locator("#article")
    expect(pane.locator("h2")).to_have_text(SEED_TITLE)
    expect(pane.locator("a[href^='https://www.wired.com']")).to_be_visible()
    assert pane.locator("article p").count() > 5  # paragraphs kept
    assert pane.locator("script, img").count() == 0
    expect(page.locator("#chat")).to_contain_text("In short")  # the opening overview

    _ask(page, QUESTION, EXPECTED_QUOTE)
    expected = bot.ask(QUESTION, article="ketamine-opioid").citations[0]
    link = page.locator('#chat a[href^="#cite:"]').last
    assert link.get_attribute("title") == " ".join(expected.quote.split())  # hover shows the quote
    expect(page.locator("#chat [role=button][aria-expanded]").last).to_have_attribute("aria-expanded", "false")
    page.locator("#article-pane").evaluate("pane => pane.scrollTop = 0")
    link.click()
    cited = page.locator("#article .cited")
    expect(cited).to_have_count(1)
    assert cited.inner_text() == expected.quote
    assert (int(cited.get_attribute("data-start")), int(cited.get_attribute("data-end"))) == (
        expected.quote_start, expected.quote_end)
    pane_box, quote_box = page.locator("#article-pane").bounding_box(), cited.bounding_box()
    assert pane_box["y"] <= quote_box["y"] and quote_box["y"] + quote_box["height"] <= pane_box["y"] + pane_box["height"]

    page.locator('#chat a[href^="#cite:"]').first.click()  # the overview's [1]: another sentence
    assert page.locator("#article .cited").first.get_attribute("data-start") != str(expected.quote_start)
    page.context.close()


def test_a_chip_asks_its_question_and_a_reload_keeps_the_chat(server, browser):
    from playwright.sync_api import expect

    url, bot = server
    page = _open(browser, url)
    chip = page.locator("#chips button").first
    suggestion = chip.inner_text()
    assert suggestion in bot.suggestions("ketamine-opioid")
    assert 3 <= page.locator("#chips button:visible").count() <= 5
    chip.click()
    expect(page.locator("#chat")).to_contain_text(suggestion, timeout=ANSWER_TIMEOUT)
    expect(page.locator('#chat a[href^="#cite:"]')).not_to_have_count(5, timeout=ANSWER_TIMEOUT)  # overview has 5
    page.wait_for_timeout(500)  # the conversation is saved after the answer
    links = page.locator('#chat a[href^="#cite:"]')
    before = [links.nth(i).get_attribute("href") for i in range(links.count())]

    page.reload()
    expect(page.locator("#chat")).to_contain_text(suggestion, timeout=ANSWER_TIMEOUT)
    expect(links).to_have_count(len(before))
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == before
    page.context.close()


def _upload_a_binary_file(page, tmp_path: Path) -> None:
    """Opens the Library and uploads a file that is not text: refused, with its note."""
    from playwright.sync_api import expect

    page.get_by_text("Library").click()
    binary = tmp_path / "notes.txt"
    binary.write_bytes(bytes(range(256)) * 64)
    page.locator("#upload input[type=file]").set_input_files(str(binary))
    expect(page.locator("#upload-note")).to_contain_text("Not added: notes.txt: binary data, not text", timeout=ANSWER_TIMEOUT)


def test_upload_selects_the_new_article_and_switching_keeps_histories_apart(server, browser, web_corpus, tmp_path):
    from playwright.sync_api import expect

    url, _ = server
    page = _open(browser, url)
    before = sorted(p.name for p in web_corpus.iterdir())
    _upload_a_binary_file(page, tmp_path)
    assert sorted(p.name for p in web_corpus.iterdir()) == before

    good = tmp_path / "seed library.txt"
    good.write_text(NEW_ARTICLE + "\x1b[0m", encoding="utf-8")  # a colour reset pasted from a terminal
    page.locator("#upload input[type=file]").set_input_files(str(good))
    expect(page.locator("#article h2")).to_have_text(NEW_TITLE, timeout=ANSWER_TIMEOUT)
    expect(page.locator("#upload-note")).to_contain_text("read seed library.txt: 1 terminal control code")
    expect(page.get_by_role("combobox", name="Article")).to_have_value(NEW_TITLE)
    expect(page.locator("#status")).to_contain_text("2 articles; 1 added")
    assert sorted(p.name for p in web_corpus.iterdir()) == sorted([*before, "seed library.txt"])

    _ask(page, NEW_QUESTION, "340")
    _choose_article(page, SEED_TITLE)
    expect(page.locator("#article h2")).to_have_text(SEED_TITLE, timeout=ANSWER_TIMEOUT)
    expect(page.locator("#chat")).not_to_contain_text(NEW_QUESTION)
    _ask(page, "What is a K-hole?", "K-hole")
    _choose_article(page, NEW_TITLE)
    expect(page.locator("#chat")).to_contain_text(NEW_QUESTION, timeout=ANSWER_TIMEOUT)
    expect(page.locator("#chat")).not_to_contain_text("What is a K-hole?")
    page.context.close()


def test_a_file_over_the_limit_is_refused_in_the_page_with_one_message(server, browser, web_corpus, tmp_path):
    """Refused before it is sent: the Library note says why (replacing the previous file's note), no second
    message in a toast, and no request for the progress of an upload that never started."""
    from playwright.sync_api import expect

    url, bot = server
    page = _open(browser, url)
    failed = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None)
    before = sorted(p.name for p in web_corpus.iterdir())
    _upload_a_binary_file(page, tmp_path)

    limit = bot.settings.max_upload_mb
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * ((limit + 5) * 2**20 // 5))
    page.locator("#upload input[type=file]").set_input_files(str(big))
    note = page.locator("#upload-note")
    expect(note).to_have_text(f"⚠ Not added: big.txt is too large ({limit + 5:.1f} MB; uploads are at most {limit} MB)",
                              timeout=ANSWER_TIMEOUT)
    # Dropped on the upload area rather than chosen: refused the same way.
    page.locator("#upload").evaluate("""(area, bytes) => {
        const files = new DataTransfer();
        files.items.add(new File([new Uint8Array(bytes)], "dropped.txt", {type: "text/plain"}));
        area.dispatchEvent(new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
    }""", (limit + 1) * 2**20)
    expect(note).to_have_text(f"⚠ Not added: dropped.txt is too large ({limit + 1:.1f} MB; uploads are at most {limit} MB)",
                              timeout=ANSWER_TIMEOUT)
    page.wait_for_timeout(4000)  # Gradio's progress poll answers 404 after 3 s when no upload started
    expect(page.locator(".toast-body")).to_have_count(0)
    assert failed == []
    assert sorted(p.name for p in web_corpus.iterdir()) == before
    page.context.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_a_header_dropdowns_list_closes_when_the_focus_or_a_click_moves_on(server, browser, width, height):
    """Gradio opens a dropdown's list when its box gets the focus; tabbing on or clicking elsewhere must close it."""
    from playwright.sync_api import expect

    url, _ = server
    page = _open(browser, url, width, height)
    lists = page.get_by_role("listbox")
    page.get_by_role("combobox", name="Article").focus()
    expect(lists).to_have_count(1)
    page.keyboard.press("Tab")  # to "Answering with", which opens its own list
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(lists).to_have_count(0, timeout=3000)
    page.get_by_role("combobox", name="Answering with").click()
    expect(lists).to_have_count(1)
    page.locator("#chat .bubble-wrap").click(position={"x": 20, "y": 20})
    expect(lists).to_have_count(0, timeout=3000)
    expect(page.get_by_role("combobox", name="Answering with")).to_have_value(re.compile(r"Quotes from the article"))
    page.context.close()


def test_a_backend_that_does_not_answer_shows_a_red_message_for_that_session_only(server, browser):
    from playwright.sync_api import expect

    url, _ = server
    page, other = _open(browser, url), _open(browser, url)
    page.get_by_label("Answering with").click()
    page.get_by_role("option", name="OpenAI-compatible server").click()
    note = page.locator("#backend-note")
    expect(note).to_contain_text("cannot reach the openai server", timeout=ANSWER_TIMEOUT)
    expect(note).to_have_css("color", "rgb(153, 27, 27)")  # the red style follows the text in a second step
    _ask(other, QUESTION, EXPECTED_QUOTE)  # the other session still answers with quotes, no note
    expect(other.locator("#chat")).not_to_contain_text("cannot reach")
    page.get_by_role("button", name="Use quotes instead").click()
    expect(note).to_contain_text("Now answering with: Quotes from the article (offline).", timeout=ANSWER_TIMEOUT)
    page.context.close()
    other.context.close()


def test_on_a_phone_the_answer_and_the_input_are_both_on_screen(server, browser):
    url, _ = server
    page = _open(browser, url, 390, 844)
    _ask(page, QUESTION, EXPECTED_QUOTE)
    page.wait_for_timeout(1000)
    box = page.get_by_role("textbox", name="Ask a question")
    answer = page.locator("#chat").get_by_text(EXPECTED_QUOTE).last
    for element in (box, answer):
        shape = element.bounding_box()
        assert shape["y"] >= 0 and shape["y"] + shape["height"] <= 844, shape
    assert box.evaluate("b => getComputedStyle(b).fontSize") == "16px"  # no zoom on iOS
    page.get_by_role("tab", name="Article").click()
    assert page.locator("#article-pane").is_visible() and not page.locator("#chat-pane").is_visible()
    page.context.close()


def test_focusing_a_citation_with_the_keyboard_shows_and_announces_its_quote(server, browser):
    from playwright.sync_api import expect

    url, bot = server
    page = _open(browser, url)
    _ask(page, QUESTION, EXPECTED_QUOTE)
    quote = " ".join(bot.ask(QUESTION, article="ketamine-opioid").citations[0].quote.split())
    page.get_by_role("textbox", name="Ask a question").focus()
    for _ in range(30):  # back from the input, past the chips and the answer's buttons, to its [1]
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.matches('a[href^=\"#cite:\"]')"):
            break
    link = page.locator(CITATION_LINKS).last
    assert link.evaluate("link => link === document.activeElement")
    tip = page.get_by_role("tooltip")
    expect(tip).to_be_visible()
    expect(tip).to_have_text(quote)
    expect(link).to_have_accessible_description(quote)
    page.keyboard.press("Tab")
    expect(tip).to_be_hidden()
    link.click()  # a click shows the quote in the article, not in a tooltip
    expect(page.locator("#article .cited")).to_have_count(1)
    expect(tip).to_be_hidden()
    page.context.close()


def test_names_toggles_and_contrast_pass_accessibility_checks(server, browser):
    from playwright.sync_api import expect

    url, _ = server
    page = _open(browser, url)
    _ask(page, QUESTION, EXPECTED_QUOTE)
    expect(page.locator("#question textarea")).to_have_accessible_name("Ask a question")
    page.get_by_text("Library").click()
    expect(page.locator("#status")).to_be_visible()
    ratios = {name: page.evaluate(CONTRAST, list(check)) for name, check in CONTRAST_CHECKS.items()}
    assert None not in ratios.values(), ratios  # every kind of text was found on the page
    assert min(ratios.values()) >= 4.5, ratios
    toggle = page.locator("#chat [role=button][aria-expanded]").last
    expect(toggle).to_have_accessible_name(re.compile(r"^Sources"))
    for expanded in ("true", "false"):
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", expanded)
    page.context.close()


def test_on_a_phone_taps_land_and_typing_does_not_zoom(server, browser):
    url, _ = server
    page = _open(browser, url, 390, 844)
    _ask(page, QUESTION, EXPECTED_QUOTE)
    box = page.get_by_role("textbox", name="Ask a question")
    assert float(box.evaluate("b => getComputedStyle(b).fontSize").removesuffix("px")) >= 16
    heights = page.evaluate(f"""() => [...document.querySelectorAll('{TAP_TARGETS}')]
        .filter((e) => e.checkVisibility())
        .map((e) => [e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40), e.getBoundingClientRect().height])""")
    kinds = " ".join(name for name, _ in heights)
    assert all(word in kinds for word in ("[1]", "Article", "Chat", "Ask", "Library")), kinds
    assert [(name, height) for name, height in heights if height < 44] == []
    page.context.close()


def test_a_cold_server_says_the_model_is_loading_until_it_is_ready(browser, make_assistant):
    from playwright.sync_api import expect

    bot = make_assistant()
    bot.sync()
    ready = threading.Event()
    warm_up = bot.warm_up
    bot.warm_up = lambda: (ready.wait(ANSWER_TIMEOUT / 1000), warm_up())  # held until the page was seen loading
    url, app = _start(bot)
    try:
        page = _open(browser, url)
        loading = page.locator("#loading")
        expect(loading).to_contain_text("Loading the model")
        ready.set()
        expect(loading).to_be_hidden(timeout=ANSWER_TIMEOUT)
        _ask(page, QUESTION, EXPECTED_QUOTE)
        page.context.close()
    finally:
        ready.set()
        app.close()


def test_clear_holds_across_a_reload_and_brings_back_the_overview(server, browser):
    """Before: Clear emptied the chat, but a reload brought the whole conversation back, and no overview."""
    from playwright.sync_api import expect

    url, _ = server
    page = _open(browser, url)
    expect(page.locator("#article h2")).to_have_text(SEED_TITLE)
    _ask(page, QUESTION, EXPECTED_QUOTE)
    page.locator("#chat").get_by_role("button", name=re.compile("^clear", re.I)).click()
    chat = page.locator("#chat")
    expect(chat).not_to_contain_text(QUESTION, timeout=ANSWER_TIMEOUT)
    expect(chat).to_contain_text("In short", timeout=ANSWER_TIMEOUT)
    page.wait_for_timeout(1000)  # the browser's copy of the chats is written after the overview
    page.reload()
    expect(chat).to_contain_text("In short", timeout=ANSWER_TIMEOUT)
    expect(chat).not_to_contain_text(QUESTION)
    page.context.close()


def test_a_new_visitor_lands_on_the_default_article_then_on_their_own_choice(browser, embedding_model, tmp_path):
    """Before: a new visitor landed on whichever id sorts first (after two uploads, "Harbour Seals")."""
    from playwright.sync_api import expect

    from conftest import copy_corpus

    corpus = copy_corpus(tmp_path / "corpus")
    (corpus / "a-harbour.txt").write_text(NEW_ARTICLE, encoding="utf-8")  # sorts before the shipped article
    bot = Assistant(corpus_dir=corpus, data_dir=tmp_path / "index", embeddings=embedding_model,
                    default_article="ketamine-opioid")
    url, app = _start(bot)
    try:
        page = _open(browser, url)
        picker = page.get_by_role("combobox", name="Article")
        expect(picker).to_have_value(SEED_TITLE)
        _choose_article(page, NEW_TITLE)
        expect(page.locator("#article h2")).to_have_text(NEW_TITLE, timeout=ANSWER_TIMEOUT)
        page.wait_for_timeout(1000)
        page.reload()
        expect(picker).to_have_value(NEW_TITLE, timeout=ANSWER_TIMEOUT)  # the visitor's own choice comes first
        page.context.close()
    finally:
        app.close()


def test_a_first_launch_serves_the_page_at_once_and_says_it_is_indexing(browser, tmp_path):
    """Before: on an empty data dir the server refused connections for 15-27 s and printed nothing."""
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from playwright.sync_api import expect

    from conftest import copy_corpus
    from llm_server import free_port

    corpus = copy_corpus(tmp_path / "corpus")
    for n in range(6):  # more to embed than the shipped article alone: the scan outlasts the first page load
        (corpus / f"extra-{n}.txt").write_text(f"Extra {n}\n\n" + NEW_ARTICLE.split("\n\n", 1)[1] * 8, encoding="utf-8")
    port = free_port()
    log = tmp_path / "serve.log"
    server = subprocess.Popen([str(Path(sys.executable).with_name("assistant")), "--corpus-dir", str(corpus), "--data-dir",
                               str(tmp_path / "index"), "serve", "--port", str(port)],
                              stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        started, up_after = time.monotonic(), None
        while time.monotonic() - started < 120 and server.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).close()
                up_after = time.monotonic() - started
                break
            except OSError:
                time.sleep(0.2)
        assert up_after is not None, log.read_text()
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        expect(page.locator("#loading")).to_contain_text("Indexing the article", timeout=ANSWER_TIMEOUT)
        # when the scan is over, the page fills in by itself
        expect(page.locator("#article h2")).to_have_text("Extra 0", timeout=180_000)  # first by id
        expect(page.locator("#chips button").first).to_be_visible(timeout=ANSWER_TIMEOUT)
        page.context.close()
        printed = log.read_text()
        assert "scanning" in printed and "article(s) indexed; loading the models" in printed
        assert "Running on local URL" in printed and "embedding" in printed  # the progress bar
    finally:
        import os
        import signal

        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"  # axe-core 4.14.1 (MPL-2.0), vendored


def _axe_violations(page) -> list[str]:
    """axe-core's critical and serious violations on the page as it is: "rule (impact) × elements"."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                          ".map((v) => [v.id, v.impact, v.nodes.length])")
    return [f"{rule} ({impact}) x{count}" for rule, impact, count in found if impact in ("critical", "serious")]


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_axe_finds_no_critical_or_serious_violation(server, browser, width, height):
    """Before: Sources' nameless arrow button (critical), a button inside a button (serious), the upload
    area's "- or -" contrast and a name that is not its visible text (serious)."""
    from playwright.sync_api import expect

    url, _ = server
    page = _open(browser, url, width, height)
    assert _axe_violations(page) == [], "on load"
    _ask(page, QUESTION, EXPECTED_QUOTE)
    assert _axe_violations(page) == [], "with an answer"
    title = page.locator("#chat .thought-group .title").last
    title.focus()
    page.keyboard.press("Space")  # the Sources box opens and closes from the keyboard as a button does
    expect(title).to_have_attribute("aria-expanded", "true")
    assert _axe_violations(page) == [], "with Sources open"
    page.keyboard.press("Space")
    expect(title).to_have_attribute("aria-expanded", "false")
    page.get_by_text("Library").click()
    expect(page.locator("#upload")).to_be_visible()
    assert _axe_violations(page) == [], "with the Library open"
    assert page.locator("h1").count() == 1
    page.context.close()


LAYOUT = """() => {
  const box = (selector) => document.querySelector(selector).getBoundingClientRect();
  const wrap = document.querySelector('#chat .bubble-wrap');
  return {chat: box('#chat').height, pane: box('#chat-pane').height, chips: box('#chips').height,
          scrollTop: wrap.scrollTop, viewport: window.innerHeight};
}"""


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_the_conversation_gets_the_room_and_a_new_overview_shows_from_its_top(server, browser, width, height):
    """Before: desktop chat 350 of 800 px with chips in 3 rows (144 px), the overview scrolled to its
    end; phone: pickers and tabs took the top 325 px and the chat 331 of 844."""
    url, _ = server
    page = _open(browser, url, width, height)
    page.wait_for_timeout(1500)  # the overview's scroll to its top follows its rendering
    layout = page.evaluate(LAYOUT)
    assert layout["chips"] <= 60, layout  # one row, scrolled sideways
    assert layout["scrollTop"] == 0, layout
    if width > 700:
        assert layout["chat"] >= 0.6 * layout["pane"], layout
    else:
        assert layout["chat"] >= 0.6 * layout["viewport"], layout
        assert page.get_by_label("Article").is_visible() and page.get_by_label("Answering with").is_visible()
    page.context.close()


def test_the_greetings_suggested_questions_can_be_clicked(server, browser):
    """Before: "hi" listed its questions as plain text."""
    from playwright.sync_api import expect

    url, _ = server
    page = _open(browser, url)
    box = page.get_by_role("textbox", name="Ask a question")
    box.fill("hi")
    box.press("Enter")
    offered = page.locator('#chat a[href^="#ask:"]')
    expect(offered.first).to_be_visible(timeout=ANSWER_TIMEOUT)
    question = offered.first.inner_text()
    offered.first.click()
    expect(page.locator("#chat .user-row").last).to_contain_text(question, timeout=ANSWER_TIMEOUT)
    expect(page.locator("#chat .bot-row").last).not_to_contain_text("You could ask", timeout=ANSWER_TIMEOUT)
    page.context.close()


def test_an_asked_chip_is_replaced_by_another_suggestion(server, browser):
    from playwright.sync_api import expect

    url, _ = server
    page = _open(browser, url)
    chips = page.locator("#chips button")
    first = chips.first.inner_text()
    before = [chips.nth(i).inner_text() for i in range(chips.count())]
    chips.first.click()
    expect(page.locator("#chat .user-row").last).to_contain_text(first, timeout=ANSWER_TIMEOUT)
    expect(chips.first).not_to_have_text(first, timeout=ANSWER_TIMEOUT)
    after = [chips.nth(i).inner_text() for i in range(chips.count())]
    assert first not in after and len(after) == len(before), (before, after)
    page.context.close()


def test_on_a_phone_text_is_readable_and_chat_buttons_are_tappable_and_the_focus_shows(server, browser):
    """Before: chips and Sources in 12 px text, Copy and Clear 18 px wide, no focus ring on the question box."""
    url, _ = server
    page = _open(browser, url, 390, 844)
    _ask(page, QUESTION, EXPECTED_QUOTE)
    sizes = page.evaluate("""() => ({
      chips: parseFloat(getComputedStyle(document.querySelector('#chips button')).fontSize),
      sources: parseFloat(getComputedStyle(document.querySelector('#chat .thought-group .title')).fontSize),
      buttons: [...document.querySelectorAll('#chat button')].filter((b) => b.offsetParent)
        .map((b) => Math.min(b.getBoundingClientRect().width, b.getBoundingClientRect().height)),
    })""")
    assert sizes["chips"] >= 14 and sizes["sources"] >= 14, sizes
    assert sizes["buttons"] and min(sizes["buttons"]) >= 44, sizes
    page.get_by_role("textbox", name="Ask a question").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus reached from the keyboard, so :focus-visible applies
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement); return [document.activeElement.tagName, s.outlineStyle, parseFloat(s.outlineWidth)]; }")
    assert ring[0] == "TEXTAREA" and ring[1] != "none" and ring[2] >= 2, ring
    page.context.close()
