"""The Chroma index on disk and its incremental sync (real MiniLM, real Chroma in temporary folders).

Whether a sync was free is proven by the embedder's counter (``texts_embedded``), never by timing.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import UserError
from assistant.index import EMBED_BATCH
from assistant.store import LIVE

REPO = Path(__file__).resolve().parent.parent
SEED_PATH = REPO / "corpus" / "ketamine-opioid.txt"
SEED_ID = "ketamine-opioid"
SECOND_PATH = REPO / "tests" / "data" / "second_article" / "river-cleanup.md"
SECOND_ID = "river-cleanup"

NEW_PARAGRAPH = "A lighthouse keeper named Orla Vance once tried to calm a zebra with ketamine in 1911."


# -- helpers ---------------------------------------------------------------------------------


def records(bot: Assistant) -> list[tuple[str, dict, str]]:
    """Every record in the Chroma collection, read from Chroma itself: (id, metadata, document)."""
    got = bot.index.store.get(include=["metadatas", "documents"])
    return list(zip(got["ids"], got["metadatas"], got["documents"]))


def versions_in_chroma(bot: Assistant) -> Counter:
    return Counter(meta["version"] for _, meta, _ in records(bot))


def record_count(indexed) -> int:
    """Records one article version owns: its passages plus its sentences."""
    return len(indexed.passages) + len(indexed.sentences)


def manifest(bot: Assistant) -> dict[str, dict]:
    data = json.loads(bot.index.backing.manifest_path(LIVE).read_text(encoding="utf-8"))
    return {article["id"]: article for article in data["articles"]}


def pending(bot: Assistant) -> bool:
    """The live manifest says records are being written (a sync was interrupted)."""
    return json.loads(bot.index.backing.manifest_path(LIVE).read_text(encoding="utf-8"))["pending"]


def change_seed(path: Path) -> None:
    """A real edit: one new paragraph near the top of the article."""
    raw = path.read_text(encoding="utf-8")
    marker = "Few drugs are as two-faced as ketamine."
    assert marker in raw
    path.write_text(raw.replace(marker, f"{NEW_PARAGRAPH}\n\n{marker}", 1), encoding="utf-8")


def assert_records_match(bot: Assistant) -> None:
    """Chroma holds exactly the manifest's versions, each complete, each document a slice of its text."""
    active = {a.version: a for a in bot.index.articles.values()}
    assert versions_in_chroma(bot) == Counter({version: record_count(a) for version, a in active.items()})
    ids = [rid for rid, _, _ in records(bot)]
    assert len(ids) == len(set(ids))
    for _, meta, document in records(bot):
        article = active[meta["version"]]
        assert meta["article_id"] == article.id
        assert meta["kind"] in ("passage", "sentence")
        assert document == article.text[meta["start"] : meta["end"]]


# -- sync ------------------------------------------------------------------------------------


def test_sync_adds_every_article(make_assistant, corpus_dir, data_dir):
    shutil.copyfile(SECOND_PATH, corpus_dir / SECOND_PATH.name)
    bot = make_assistant(corpus_dir, data_dir)
    report = bot.sync()
    assert sorted(report.added) == [SEED_ID, SECOND_ID]
    assert report.updated == report.removed == report.unchanged == report.problems == []
    assert report.changed
    indexed = bot.index.articles
    assert report.texts_embedded == sum(record_count(a) for a in indexed.values()) > 0
    assert bot.index.texts_embedded == report.texts_embedded
    assert_records_match(bot)
    on_disk = manifest(bot)
    assert sorted(on_disk) == [SEED_ID, SECOND_ID]
    assert on_disk[SEED_ID]["sha256"] == indexed[SEED_ID].sha256
    assert not pending(bot)
    listed = {a.id: a for a in bot.articles()}
    assert listed[SEED_ID].title == "What if Ketamine Actually Works Like an Opioid?"
    assert listed[SEED_ID].url == "https://www.wired.com/story/ketamine-opioid/"
    assert listed[SECOND_ID].url == "https://example.org/news/river-cleanup"
    assert listed[SECOND_ID].path == str(corpus_dir / SECOND_PATH.name)
    assert all(a.passages == len(indexed[a.id].passages) > 0 for a in listed.values())


def test_the_same_corpus_named_by_a_relative_path_embeds_nothing(bot, monkeypatch):
    """`assistant --corpus-dir corpus` and `--corpus-dir /abs/corpus` are one folder: no re-embedding."""
    corpus = Path(bot.settings.corpus_dir).resolve()
    monkeypatch.chdir(corpus.parent)
    again = Assistant(corpus_dir=corpus.name, data_dir=bot.settings.data_dir)
    report = again.sync()
    assert report.texts_embedded == 0 and report.unchanged == [SEED_ID]
    assert not again.index.embeddings.loaded


def test_an_index_built_through_a_relative_path_is_found_from_another_directory(make_assistant, tmp_path, monkeypatch):
    """Indexed as `--corpus-dir corpus` from its parent, then named absolutely from elsewhere: nothing re-embedded."""
    corpus = Path(make_assistant().settings.corpus_dir)  # the test's own copy of the corpus
    monkeypatch.chdir(corpus.parent)
    make_assistant(corpus_dir=Path(corpus.name), data_dir=tmp_path / "index").sync()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    report = make_assistant(corpus_dir=corpus, data_dir=tmp_path / "index").sync()
    assert report.texts_embedded == 0 and report.unchanged == [SEED_ID]


def test_resync_of_an_unchanged_corpus_embeds_nothing(bot):
    before = bot.index.texts_embedded
    report = bot.sync()
    assert report.texts_embedded == 0
    assert bot.index.texts_embedded == before
    assert report.unchanged == [SEED_ID]
    assert not report.changed and report.problems == []


def test_a_restart_on_an_existing_index_embeds_nothing_and_loads_no_model(bot):
    again = Assistant(corpus_dir=bot.settings.corpus_dir, data_dir=bot.settings.data_dir)
    report = again.sync()
    assert report.texts_embedded == 0 and report.unchanged == [SEED_ID]
    assert not again.index.embeddings.loaded  # the model was never even loaded
    assert [a.to_dict() for a in again.articles()] == [a.to_dict() for a in bot.articles()]


def test_changing_an_article_replaces_its_version(make_assistant, corpus_dir, data_dir):
    bot = make_assistant(corpus_dir, data_dir)
    bot.sync()
    old = bot.index.articles[SEED_ID]
    change_seed(corpus_dir / SEED_PATH.name)

    report = bot.sync()
    new = bot.index.articles[SEED_ID]
    assert report.updated == [SEED_ID] and report.added == [] and report.removed == []
    assert new.version != old.version and new.sha256 != old.sha256
    assert NEW_PARAGRAPH in new.text and NEW_PARAGRAPH not in old.text
    assert report.texts_embedded == record_count(new)
    # Chroma: the old version's records are gone, the new version's are all there
    assert bot.index.store.get(where={"version": old.version})["ids"] == []
    assert_records_match(bot)
    assert any(NEW_PARAGRAPH in document for _, meta, document in records(bot) if meta["kind"] == "passage")
    assert manifest(bot)[SEED_ID]["sha256"] == new.sha256
    # and a sync after that is free again
    assert bot.sync().texts_embedded == 0


def test_deleting_an_article_removes_it(make_assistant, corpus_dir, data_dir):
    shutil.copyfile(SECOND_PATH, corpus_dir / SECOND_PATH.name)
    bot = make_assistant(corpus_dir, data_dir)
    bot.sync()
    seed_records = versions_in_chroma(bot)[bot.index.articles[SEED_ID].version]
    (corpus_dir / SECOND_PATH.name).unlink()

    report = bot.sync()
    assert report.removed == [SECOND_ID] and report.unchanged == [SEED_ID]
    assert report.texts_embedded == 0
    assert [a.id for a in bot.articles()] == [SEED_ID]
    assert bot.index.store.get(where={"article_id": SECOND_ID})["ids"] == []
    assert versions_in_chroma(bot) == Counter({bot.index.articles[SEED_ID].version: seed_records})
    assert sorted(manifest(bot)) == [SEED_ID]
    with pytest.raises(UserError, match=SECOND_ID):
        bot.ask("How many volunteers took part?", article=SECOND_ID)


def test_deleting_the_last_article_leaves_an_empty_index(make_assistant, corpus_dir, data_dir):
    bot = make_assistant(corpus_dir, data_dir)
    bot.sync()
    (corpus_dir / SEED_PATH.name).unlink()
    assert bot.sync().removed == [SEED_ID]
    assert bot.index.store.count() == 0
    assert bot.articles() == []
    with pytest.raises(UserError, match="no articles"):
        bot.ask("What is ketamine?")


def test_a_broken_file_is_reported_and_the_rest_indexed(make_assistant, corpus_dir, data_dir):
    (corpus_dir / "empty.txt").write_bytes(b"")
    (corpus_dir / "garbage.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8)
    (corpus_dir / "non-utf8.txt").write_bytes(bytes([0x81, 0x8D, 0x9D, 0xC3, 0x28]) * 40)
    bot = make_assistant(corpus_dir, data_dir)
    report = bot.sync()
    assert report.added == [SEED_ID]
    assert sorted(p.path.name for p in report.problems) == ["empty.txt", "garbage.pdf", "non-utf8.txt"]
    assert all(p.reason and "\n" not in p.reason for p in report.problems)
    assert bot.last_sync is report
    assert [a.id for a in bot.articles()] == [SEED_ID]
    assert_records_match(bot)
    # once the file is fixed, the next sync picks it up
    shutil.copyfile(SECOND_PATH, corpus_dir / "empty.txt")
    report = bot.sync()
    assert report.added == ["empty"] and report.unchanged == [SEED_ID]
    assert sorted(p.path.name for p in report.problems) == ["garbage.pdf", "non-utf8.txt"]


@pytest.mark.parametrize("then", ["same-process", "restart", "restart-and-edit-again"])
def test_an_interrupted_sync_keeps_the_old_version_until_the_next_sync(make_assistant, corpus_dir, data_dir, monkeypatch, then):
    """A crash half-way through embedding a changed article (simulated: the embedder raises after
    the first batch). Then: sync again in the same process, or after a restart, or after a restart
    with the file edited once more (so the half-written version is orphaned and must be cleared)."""
    bot = make_assistant(corpus_dir, data_dir)
    bot.sync()
    old = bot.index.articles[SEED_ID]
    change_seed(corpus_dir / SEED_PATH.name)

    real_embed = bot.index.embeddings.embed_documents
    batches = []

    def crash_after_first_batch(texts):
        if batches:
            raise RuntimeError("simulated crash in the middle of a sync")
        batches.append(len(texts))
        return real_embed(texts)

    monkeypatch.setattr(bot.index.embeddings, "embed_documents", crash_after_first_batch)
    with pytest.raises(RuntimeError, match="simulated crash"):
        bot.sync()
    monkeypatch.undo()

    # the crash really left half a new version in Chroma ...
    in_chroma = versions_in_chroma(bot)
    assert batches == [EMBED_BATCH]
    half_written = [v for v in in_chroma if v != old.version]
    assert len(half_written) == 1 and in_chroma[half_written[0]] == EMBED_BATCH
    assert in_chroma[old.version] == record_count(old)
    # ... but the manifest still names the old version, and the sync is marked unfinished
    assert manifest(bot)[SEED_ID]["sha256"] == old.sha256
    assert pending(bot)

    if then.startswith("restart"):
        bot = make_assistant(corpus_dir, data_dir)
    assert bot.index.articles[SEED_ID].version == old.version

    # queries see only the old version's passages
    active = bot.index.articles[SEED_ID]
    hits = bot.retriever.retrieve("Orla Vance lighthouse keeper zebra", [active], 50)
    assert hits and all(hit.article.version == old.version for hit in hits)
    assert all("zebra" not in hit.passage.text for hit in hits)
    dense = bot.index.dense_passages(bot.index.query_vector("zebra lighthouse"), [active.version], 100)
    assert len(dense) == len(old.passages)

    if then == "restart-and-edit-again":
        path = corpus_dir / SEED_PATH.name
        path.write_text(path.read_text(encoding="utf-8").replace("Orla Vance", "Orla Vane"), encoding="utf-8")

    # the next sync clears the half-written records and indexes the new version
    report = bot.sync()
    new = bot.index.articles[SEED_ID]
    assert report.updated == [SEED_ID]
    assert new.version != old.version
    assert (new.version == half_written[0]) == (then != "restart-and-edit-again")
    assert not pending(bot)
    assert report.texts_embedded == record_count(new)
    assert_records_match(bot)
    assert manifest(bot)[SEED_ID]["sha256"] == new.sha256
    hits = bot.retriever.retrieve("Orla Vance lighthouse keeper zebra", [new], 4)
    assert any("lighthouse keeper named Orla" in hit.passage.text for hit in hits)


def test_a_second_article_dropped_in_is_picked_up_by_the_same_assistant(make_assistant, corpus_dir, data_dir):
    bot = make_assistant(corpus_dir, data_dir)
    bot.sync()
    assert [a.id for a in bot.articles()] == [SEED_ID]
    with pytest.raises(UserError, match=SECOND_ID):
        bot.ask("How many volunteers took part?", article=SECOND_ID)

    shutil.copyfile(SECOND_PATH, corpus_dir / SECOND_PATH.name)
    report = bot.sync()
    assert report.added == [SECOND_ID] and report.unchanged == [SEED_ID]
    second = bot.index.articles[SECOND_ID]
    assert report.texts_embedded == record_count(second)  # the seed was not embedded again
    assert [a.id for a in bot.articles()] == [SEED_ID, SECOND_ID]

    answer = bot.ask("How many volunteers have removed rubbish from the Alder River?", article=SECOND_ID)
    assert answer.article == SECOND_ID
    assert answer.found and answer.citations
    for citation in answer.citations:
        assert citation.article_id == SECOND_ID
        assert citation.source == str(corpus_dir / SECOND_PATH.name)
        assert citation.title == second.title
        assert citation.text == second.text[citation.start : citation.end]
    seed_only = bot.ask("How many volunteers have removed rubbish from the Alder River?", article=SEED_ID)
    assert all(c.article_id == SEED_ID for c in seed_only.citations)
    assert bot.ask("What did the council say?").article == "all"


def test_rebuild_in_the_same_process(make_assistant, corpus_dir, data_dir):
    bot = make_assistant(corpus_dir, data_dir)
    bot.sync()
    bot.index.rebuild()
    report = bot.sync()
    assert report.added == [SEED_ID]
    assert_records_match(bot)


def test_a_new_file_with_an_indexed_id_gets_its_own_id_not_the_indexed_one(make_assistant, corpus_dir, data_dir):
    bot = make_assistant(corpus_dir, data_dir)
    bot.sync()
    seed_version = bot.index.articles[SEED_ID].version
    shutil.copyfile(SECOND_PATH, corpus_dir / "ketamine-opioid.md")  # same id, different article
    first = bot.sync()
    second = bot.sync()
    assert first.added == [f"{SEED_ID}-md"] and first.unchanged == [SEED_ID] and first.problems == []
    assert second.added == [] and sorted(second.unchanged) == [SEED_ID, f"{SEED_ID}-md"] and second.texts_embedded == 0
    assert bot.index.articles[SEED_ID].version == seed_version
    assert bot.index.articles[SEED_ID].path == str(corpus_dir / SEED_PATH.name)
    assert bot.index.articles[f"{SEED_ID}-md"].path == str(corpus_dir / "ketamine-opioid.md")
