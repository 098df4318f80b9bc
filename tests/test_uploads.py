"""Adding an uploaded file to the corpus: checked by content, size and name; refused with nothing changed."""

from __future__ import annotations

import pytest
from test_web import NEW_ARTICLE

from assistant.config import Settings, SettingsError, load_settings
from assistant.errors import UserError
from assistant.uploads import FileExists, add_upload, safe_name

pytestmark = pytest.mark.filterwarnings("ignore")
MAX_MB = Settings().max_upload_mb


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/notes.txt", "notes.txt"),
    ("C:\\Users\\me\\Report.PDF", "Report.pdf"),
    (".hidden.md", "hidden.md"),
    ("a;rm -rf $HOME`.html", "a_rm -rf _HOME_.html"),
])
def test_names_lose_path_parts_and_unsafe_characters(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["notes.exe", "../", ".txt", "archive.tar.gz"])
def test_unsupported_or_empty_names_are_refused(name):
    with pytest.raises(UserError):
        safe_name(name)


def _listing(folder):
    return sorted((p.name, p.read_bytes()) for p in folder.iterdir())


def test_bad_content_size_or_a_taken_name_leaves_the_corpus_unchanged(tmp_path, corpus_dir):
    before = _listing(corpus_dir)
    fake_pdf = tmp_path / "upload.bin"
    fake_pdf.write_text("just words, not a PDF at all, really not", encoding="utf-8")
    with pytest.raises(UserError, match="not a PDF"):
        add_upload(fake_pdf, "paper.pdf", corpus_dir, MAX_MB)
    binary = tmp_path / "upload2.bin"
    binary.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(UserError, match="binary data"):
        add_upload(binary, "notes.txt", corpus_dir, MAX_MB)
    article = tmp_path / "upload3.bin"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    with pytest.raises(FileExists, match="already has ketamine-opioid.txt"):
        add_upload(article, "ketamine-opioid.txt", corpus_dir, MAX_MB)
    assert _listing(corpus_dir) == before  # no staging file left behind either


def test_a_good_file_is_added_and_replaces_only_when_asked(tmp_path, corpus_dir):
    article = tmp_path / "upload.bin"
    article.write_text(NEW_ARTICLE, encoding="utf-8")
    saved = add_upload(article, "seeds.txt", corpus_dir, MAX_MB)
    assert saved == corpus_dir / "seeds.txt" and saved.read_text(encoding="utf-8") == NEW_ARTICLE
    article.write_text(NEW_ARTICLE + "\nA new closing line about the seed drawers and the museum.\n", encoding="utf-8")
    add_upload(article, "seeds.txt", corpus_dir, MAX_MB, replace=True)
    assert "closing line" in saved.read_text(encoding="utf-8")
    assert sorted(p.name for p in corpus_dir.iterdir()) == ["ketamine-opioid.txt", "seeds.txt"]


def test_a_file_over_the_configured_limit_is_refused_and_the_limit_is_checked(tmp_path, corpus_dir, monkeypatch):
    before = _listing(corpus_dir)
    monkeypatch.setenv("ASSISTANT_MAX_UPLOAD_MB", "1")
    limit = load_settings().max_upload_mb
    assert limit == 1
    big = tmp_path / "upload.bin"
    # Just over 1 MB but under the loader's 1,000,000 characters (Cyrillic is two bytes a letter): a good article.
    big.write_text(NEW_ARTICLE + "\n" + "Библиотека выдаёт семена жителям города. " * 14_000, encoding="utf-8")
    assert 2**20 < big.stat().st_size < 1.1 * 2**20
    with pytest.raises(UserError, match=r"^seeds.txt is too large \(1.0 MB; uploads are at most 1 MB\)$"):
        add_upload(big, "seeds.txt", corpus_dir, limit)
    assert _listing(corpus_dir) == before
    add_upload(big, "seeds.txt", corpus_dir, 2)  # the same file under a 2 MB limit is taken
    for bad in ("0", "101", "lots"):
        monkeypatch.setenv("ASSISTANT_MAX_UPLOAD_MB", bad)
        with pytest.raises(SettingsError, match=f"bad setting max_upload_mb \\(ASSISTANT_MAX_UPLOAD_MB={bad}\\)"):
            load_settings()
