"""The web chat, end to end: a real Gradio server on a free port, called over HTTP and from Chromium.

One server per module, on the session's already loaded embedding model (conftest): loading it
costs seconds. The tests only read from it, except the browser test, which adds an article and
re-scans at its end.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from assistant import Assistant  # first: sets HF_HUB_OFFLINE before gradio_client is imported
from ui.app import ERROR_TITLE, NOTE_TITLE, SOURCES_TITLE, history_pairs, serve

SEED_ID, SEED_TITLE = "ketamine-opioid", "What if Ketamine Actually Works Like an Opioid?"
SEED_URL = "https://www.wired.com/story/ketamine-opioid/"
QUESTION = "How many of the 12 participants saw their symptoms subside?"
EXPECTED_QUOTE = "7 of the 12"
CHROMIUM = Path("/usr/bin/chromium")

NEW_TITLE = "Harbour Town Library Starts Lending Seeds"
NEW_ARTICLE = f"""{NEW_TITLE}

The public library in Harbour Town has begun lending vegetable and flower seeds alongside its books. \
Members can borrow up to five packets a month and are asked to return seeds saved from their own harvest \
at the end of the season.

Head librarian Marisol Ekwueme said the library handed out 340 packets in the first month, far more than \
the 120 staff had expected. Tomatoes, runner beans and marigolds were the most requested varieties.

The seed drawers sit in an old card catalogue donated by the town museum. Ekwueme said the scheme costs \
the library almost nothing because a local allotment society supplies the first stock of seeds.
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(bot: Assistant):
    """The real ``serve`` on a free port, returning once it is up: (url, app)."""
    port = _free_port()
    app = serve(bot, port=port, block=False)
    return f"http://127.0.0.1:{port}/", app


@pytest.fixture(scope="module")
def server(web_corpus, embedding_model):
    # The openai backend, if chosen in the page, points at a closed port: the fallback is what is tested.
    bot = Assistant(corpus_dir=web_corpus, data_dir=web_corpus.parent / "index", embeddings=embedding_model,
                    openai_base_url="http://127.0.0.1:9/v1", openai_model="any")
    url, app = _start(bot)
    yield url
    app.close()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def test_ask_endpoint_returns_a_cited_answer(client, seed_text):
    result = client.predict(QUESTION, SEED_ID, api_name="/ask")
    assert result["found"] is True
    assert EXPECTED_QUOTE in result["answer"].replace("**", "")  # the answer span is bold
    quotes = [c["quote"] for c in result["citations"]]
    assert any(EXPECTED_QUOTE in q for q in quotes), quotes
    for c in result["citations"]:
        assert c["quote"] in seed_text
        assert seed_text[c["start"]:c["end"]] == c["text"]
        assert seed_text[c["quote_start"]:c["quote_end"]] == c["quote"]
        assert (c["title"], c["url"]) == (SEED_TITLE, SEED_URL)
        assert c["source"] == "ketamine-opioid.txt"  # named inside the corpus folder, never by a server path


def test_ask_endpoint_says_when_the_article_does_not_say(client):
    result = client.predict("What is the capital of France?", SEED_ID, api_name="/ask")
    assert result["found"] is False
    assert result["citations"] == []
    assert result["answer"] == "The article does not say."


def test_chat_endpoint_streams_answer_then_sources(client):
    job = client.submit(QUESTION, [], SEED_ID, api_name="/chat")
    job.result()
    updates = [messages for _, messages in job.outputs()]
    assert len(updates) >= 3  # the question, the answer as it grows, the answer with its sources
    assert [m["role"] for m in updates[0]] == ["user"]
    messages = updates[-1]
    roles = [m["role"] for m in messages]
    assert roles == ["user", "assistant", "assistant"]
    answer, sources = messages[1], messages[2]
    assert EXPECTED_QUOTE in answer["content"][0]["text"].replace("**", "")
    assert sources["metadata"]["title"] == SOURCES_TITLE
    assert SEED_URL in sources["content"][0]["text"]


def test_backend_setting_and_fallback_note_in_the_chat(client):
    """Switching to an LLM backend whose server is down: a Note box says so, the quote still comes."""
    try:
        assert "Until it answers, the answers are quotes from the article" in client.predict("openai", api_name="/backend")
        _, messages = client.predict(QUESTION, [], SEED_ID, api_name="/chat")
    finally:
        client.predict("extractive", api_name="/backend")
    titles = [(m.get("metadata") or {}).get("title") for m in messages]
    assert titles == [None, None, NOTE_TITLE, SOURCES_TITLE]
    assert "cannot reach the openai server" in messages[2]["content"][0]["text"]
    assert EXPECTED_QUOTE in messages[1]["content"][0]["text"].replace("**", "")


def test_errors_are_chat_messages_not_tracebacks(tmp_path, make_assistant):
    from gradio_client import Client

    empty = tmp_path / "empty"
    empty.mkdir()
    url, app = _start(make_assistant(corpus_dir=empty))
    try:
        _, messages = Client(url, verbose=False).predict("Anything?", [], None, api_name="/chat")
    finally:
        app.close()
    assert messages[-1]["metadata"]["title"] == ERROR_TITLE
    assert "no articles to answer from" in messages[-1]["content"][0]["text"]


def test_follow_up_history_skips_source_and_error_boxes():
    messages = [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": [{"type": "text", "text": "A1"}]},
        {"role": "assistant", "content": "passages", "metadata": {"title": SOURCES_TITLE}},
        {"role": "user", "content": "Q2"},
        {"role": "assistant", "content": "bad", "metadata": {"title": ERROR_TITLE}},
    ]
    assert history_pairs(messages) == [("Q1", "A1")]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium: apt-get install chromium")
def test_browser_chat_citations_and_rescan(server, web_corpus):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(server)
        picker = page.get_by_role("combobox", name="Article")

        box = page.get_by_placeholder("Ask a question about the article")
        box.fill(QUESTION)
        box.press("Enter")
        chat = page.locator("#chat")
        expect(chat).to_contain_text(EXPECTED_QUOTE, timeout=60_000)
        expect(page.locator(f'#article a[href="{SEED_URL}"]')).to_be_visible(timeout=30_000)
        expect(chat).to_contain_text("www.wired.com")  # the collapsed Sources line names where quotes come from

        (web_corpus / "seed-library.txt").write_text(NEW_ARTICLE, encoding="utf-8")
        page.get_by_text("Library").click()
        page.get_by_role("button", name="Re-scan corpus").click()
        expect(page.locator("#status")).to_contain_text("2 articles; 1 added", timeout=60_000)
        picker.click()
        page.get_by_role("option", name=NEW_TITLE).click()
        expect(page.locator("#article h2")).to_have_text(NEW_TITLE, timeout=60_000)

        box.fill("How many packets did the library hand out in the first month?")
        box.press("Enter")
        expect(chat).to_contain_text("the library handed out 340 packets", timeout=60_000)
        expect(chat).to_contain_text("seed-library.txt")  # no URL in the file: the source is its file name
        browser.close()


def test_the_server_keeps_a_bounded_number_of_visitor_sessions(web_corpus, embedding_model, tmp_path):
    """Gradio keeps a ~60 KiB copy of the page per session, up to 10,000 of them, and every REST question is a
    session of its own: under a steady load the server grew ~40 MiB per 650 answers (bench/capacity.py soak)."""
    import urllib.request

    bot = Assistant(corpus_dir=web_corpus, data_dir=tmp_path / "index", embeddings=embedding_model, sessions_kept=5)
    url, app = _start(bot)
    try:
        for n in range(12):
            request = urllib.request.Request(f"{url}gradio_api/call/ask", method="POST",
                                             data=f'{{"data": ["Who is Boris Heifets? ({n})", "{SEED_ID}"]}}'.encode(),
                                             headers={"Content-Type": "application/json"})
            event = urllib.request.urlopen(request, timeout=60).read().decode().split('"')[-2]
            assert "Heifets" in urllib.request.urlopen(f"{url}gradio_api/call/ask/{event}", timeout=60).read().decode()
        assert 1 <= len(app.state_holder.session_data) <= 5
    finally:
        app.close()
