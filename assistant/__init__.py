"""Article Assistant: ask questions about a news article, get answers quoted and cited from it."""

from assistant.config import force_offline

force_offline()

from assistant.answer.model import Answer, Citation  # noqa: E402
from assistant.core import Assistant  # noqa: E402

__all__ = ["Answer", "Assistant", "Citation"]
