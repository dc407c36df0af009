"""Passages are data. Text in them that addresses a language model is kept out of prompts.

Documents are untrusted: a report can carry "ignore the previous instructions"
aimed at whatever model reads it. The prompt already says passages are data;
this is the second line: such sentences are replaced before the passage goes
into a prompt (the extractive answerer, which runs no model, is unaffected).
"""

from __future__ import annotations

import re

_INSTRUCTION = re.compile(
    r"("
    r"ignore (all |any |the )?(previous|prior|above|earlier) (instructions|rules|prompts?)"
    r"|disregard (all |any |the )?(previous|prior|above) "
    r"|you are now |new instructions?:|system prompt|as an ai (language )?model"
    r"|ignora (todas )?(las )?instrucciones (anteriores|previas)|nuevas instrucciones"
    r"|negeer (alle )?(eerdere|vorige|bovenstaande) (instructies|opdrachten)|nieuwe instructies"
    r"|respond only with|answer only with|reply only with|responde solo con|antwoord alleen met"
    r")",
    re.IGNORECASE,
)
REDACTED = "[…]"


def looks_like_instructions(text: str) -> bool:
    return bool(_INSTRUCTION.search(text))


def defuse(text: str) -> str:
    """The passage with sentences that address a model replaced by [...]."""
    from ingest.chunking import sentence_spans

    if not looks_like_instructions(text):
        return text
    out, last = [], 0
    for start, end in sentence_spans(text):
        out.append(text[last:start])
        sentence = text[start:end]
        out.append(REDACTED if looks_like_instructions(sentence) else sentence)
        last = end
    out.append(text[last:])
    return "".join(out)
