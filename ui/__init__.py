"""The Gradio web chat; it only talks to ``assistant.Assistant`` and holds no retrieval logic."""

from ui.app import build_app, serve

__all__ = ["build_app", "serve"]
