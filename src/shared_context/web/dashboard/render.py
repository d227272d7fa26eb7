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
    """``text`` escaped, with the query's words (or, when none occurs verbatim, the best fuzzy
    match of the whole query) wrapped in <mark>."""
    if not query:
        return escape(text)
    spans: list[tuple[int, int]] = []
    lowered = text.casefold()
    if len(lowered) != len(text):  # case folding changed lengths: align on the original
        lowered = text
    for word in {w.casefold() for w in WORD.findall(query)}:
        start = lowered.find(word)
        while start >= 0 and len(spans) < MAX_MARKS:
            spans.append((start, start + len(word)))
            start = lowered.find(word, start + len(word))
    if not spans:
        aligned = fuzz.partial_ratio_alignment(query.casefold(), lowered)
        if aligned is not None and aligned.dest_end > aligned.dest_start:
            spans.append((aligned.dest_start, aligned.dest_end))
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
