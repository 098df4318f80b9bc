"""Errors that are the user's to fix: shown as one line, never as a traceback (CLI exit code 2)."""


class UserError(Exception):
    """Bad usage or bad input; the message says what is wrong and what to do."""
