"""Adding a file a user uploaded to the corpus folder, or refusing it with nothing changed.

The upload is judged by what it holds, with the loader's own checks (a binary file named .txt,
a "PDF" without a PDF header, an HTML page with no text are refused), before it takes its place
under a clean name: a half-written or unreadable file never shows up in the corpus.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path

from assistant.cleaning import remove_control_characters
from assistant.corpus import SUPPORTED_SUFFIXES, ArticleLoadError, load_article
from assistant.errors import UserError

MAX_NAME_CHARS = 120
_UNSAFE_NAME_CHARS = re.compile(r"[^\w .()+,-]+")


class FileExists(UserError):
    """The corpus has a file of that name already; replacing it needs the user's say-so."""


def safe_name(name: str) -> str:
    """The last part of an uploaded file name, without path parts, control or shell-special characters,
    or a leading dot (hidden files are not read); refused when nothing usable or no supported type is left."""
    base = remove_control_characters(unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1]))
    base = _UNSAFE_NAME_CHARS.sub("_", base).strip(" .")
    stem, suffix = os.path.splitext(base)
    if suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UserError(f"'{base or name}' is not a .txt, .md, .html or .pdf file")
    stem = stem.strip(" .")[: MAX_NAME_CHARS - len(suffix)]
    if not stem:
        raise UserError(f"'{name}' has no usable file name")
    return stem + suffix.lower()


def too_large(name: str, size: int, max_mb: int) -> str | None:
    """Why a file of ``size`` bytes is refused for its size, or None: one wording for the server and the page
    (which refuses such a file before sending it)."""
    return f"{name} is too large ({size / 2**20:.1f} MB; uploads are at most {max_mb} MB)" if size > max_mb * 2**20 else None


def add_upload(upload: Path, name: str, corpus_dir: Path, max_mb: int, replace: bool = False) -> Path:
    """Check ``upload`` as an article and move it into ``corpus_dir`` as ``safe_name(name)``; returns its path.

    ``max_mb`` is the ``max_upload_mb`` setting; the loader's own limit (``MAX_FILE_BYTES``) still applies.

    Raises ``UserError`` (nothing in the corpus changed) for a bad name, size or content, and
    ``FileExists`` when the name is taken and ``replace`` is false.
    """
    target = Path(corpus_dir) / safe_name(name)
    problem = too_large(target.name, upload.stat().st_size, max_mb)
    if problem:
        raise UserError(problem)
    if target.exists() and not replace:
        raise FileExists(f"the corpus already has {target.name}: tick 'Replace a file of the same name' to replace it")
    # A hidden file next to the target (the corpus ignores hidden names) is checked, then renamed in one step.
    handle, staging = tempfile.mkstemp(prefix=".upload-", suffix=target.suffix, dir=corpus_dir)
    os.close(handle)
    staging = Path(staging)
    try:
        shutil.copyfile(upload, staging)
        try:
            load_article(staging)
        except ArticleLoadError as error:
            raise UserError(f"{target.name}: {error}") from error
        os.replace(staging, target)
    finally:
        staging.unlink(missing_ok=True)
    return target
