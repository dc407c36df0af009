"""Multilingual question answering over reports, with cited answers."""

from assistant.answer import Citation, CitedAnswer
from assistant.core import Assistant, InvalidQuestionError
from assistant.settings import Settings

__all__ = ["Assistant", "Citation", "CitedAnswer", "InvalidQuestionError", "Settings"]
