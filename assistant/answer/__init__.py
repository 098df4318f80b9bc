"""Answerers: turn retrieved passages into an ``Answer`` with citations."""
