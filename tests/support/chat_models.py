"""Scripted chat models for the plumbing tests of the answer chains."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult


def fake(*replies: str) -> GenericFakeChatModel:
    """A model that answers with `replies`, one per call."""
    return GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))


SEEN: list[list[BaseMessage]] = []


class RecordingModel(GenericFakeChatModel):
    """Remembers the prompts it was given (in SEEN)."""

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        SEEN.append(messages)
        return super()._generate(messages, *args, **kwargs)
