"""Templates (Jinja2, autoescaped) and the little view logic they need: thread order and
search-match highlighting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from rapidfuzz import fuzz

from shared_context.web.dashboard.data import MessageView

TEMPLATES = Path(__file__).parent / "templates"
MAX_DEPTH = 6  # indentation stops here; deeper replies still show their parent's id
WORD = re.compile(r"\w{2,}", re.UNICODE)
MAX_MARKS = 50
MAX_WORDS = 2000  # words of a message compared with a query word (bounds the fuzzy pass)
MAX_QUERY_WORDS = 10
FUZZY_MARK = 70  # least RapidFuzz ratio for marking a word that is not verbatim in the text


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["highlight"] = highlight
    return env


@dataclass(frozen=True, slots=True)
class Row:
    """A message in thread order: replies follow their parent, one level deeper."""

    message: MessageView
    depth: int


def thread_order(messages: list[MessageView]) -> list[Row]:
    """Depth-first by parent_message_id, siblings in id order; a reply whose parent is not on
    the page starts a thread of its own (and links to the parent). Iterative: no recursion
    limit on long reply chains."""
    shown = {m.id for m in messages}
    children: dict[int | None, list[MessageView]] = {}
    for m in sorted(messages, key=lambda m: m.id):
        parent = m.parent_message_id if m.parent_message_id in shown else None
        children.setdefault(parent, []).append(m)
    rows: list[Row] = []
    stack: list[tuple[MessageView, int]] = [(m, 0) for m in reversed(children.get(None, []))]
    while stack:
        message, depth = stack.pop()
        rows.append(Row(message, min(depth, MAX_DEPTH)))
        stack.extend((c, depth + 1) for c in reversed(children.get(message.id, [])))
    return rows


def highlight(text: str, query: str | None) -> Markup:
    """``text`` escaped, with the query's words wrapped in <mark>: every verbatim
    (case-insensitive) occurrence, or, for a word that does not occur, the text's word most
    like it (typos: "tokenizr" marks "tokenizer")."""
    if not query:
        return escape(text)
    lowered = text.casefold()
    if len(lowered) != len(text):  # case folding changed lengths: align on the original
        lowered = text
    words = [(m.start(), m.end(), m.group()) for m in WORD.finditer(lowered)][:MAX_WORDS]
    spans: list[tuple[int, int]] = []
    for word in sorted({w.casefold() for w in WORD.findall(query)})[:MAX_QUERY_WORDS]:
        found = lowered.find(word)
        if found < 0:
            scored = [(fuzz.ratio(word, w), s, e) for s, e, w in words]
            best = max(scored, default=None)
            if best is not None and best[0] >= FUZZY_MARK:
                spans.append((best[1], best[2]))
        while found >= 0 and len(spans) < MAX_MARKS:
            spans.append((found, found + len(word)))
            found = lowered.find(word, found + len(word))
    return _marked(text, _merge(spans))


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _marked(text: str, spans: list[tuple[int, int]]) -> Markup:
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(str(escape(text[last:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        last = end
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def render(env: Environment, name: str, **context: Any) -> str:
    return env.get_template(name).render(**context)
