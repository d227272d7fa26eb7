"""The service API is typed: every public coroutine method of every service in the container
takes typed arguments (no ``object``, no ``Any``) and returns a pydantic result model, a
dataclass, a primitive or None, never a wire dict. Fails if a method goes back to dicts."""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from shared_context.domain.models import Principal
from shared_context.services.container import Services

PRIMITIVES = (str, int, float, bool, bytes, type(None))
# Values passed through unchanged, any JSON value by design: a memory entry's value and an
# audit row's details.
OPEN_VALUES = {("MemoryService", "set", "value"), ("AuditRecorder", "record", "details")}


def service_classes() -> Iterator[type]:
    seen: set[type] = set()
    pending: list[type] = [Services]
    while pending:
        owner = pending.pop()
        for hint in typing.get_type_hints(owner).values():
            if not isinstance(hint, type) or hint in seen:
                continue
            if hint.__module__.startswith("shared_context.services."):
                seen.add(hint)
                if dataclasses.is_dataclass(hint):  # e.g. Coordination: its services
                    pending.append(hint)
                yield hint


def public_coroutines(cls: type) -> Iterator[tuple[str, Any]]:
    for name, fn in inspect.getmembers(cls, inspect.iscoroutinefunction):
        if not name.startswith("_"):
            yield name, fn


def allowed_result(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return all(allowed_result(arm) for arm in typing.get_args(hint))
    if origin in (list, tuple):
        return all(allowed_result(arm) for arm in typing.get_args(hint) if arm is not ...)
    if origin is dict or hint is dict or hint is Any or hint is object:
        return False
    if isinstance(hint, type):
        return (
            issubclass(hint, BaseModel)
            or dataclasses.is_dataclass(hint)
            or issubclass(hint, PRIMITIVES)
        )
    return False


def open_hint(hint: Any) -> bool:
    """``object`` or ``Any`` anywhere but as a dict's value type (JSON objects)."""
    if hint is object or hint is Any:
        return True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is dict:
        return open_hint(args[0])
    return any(open_hint(arm) for arm in args if arm is not ...)


def test_the_container_holds_the_services_this_test_covers() -> None:
    names = {cls.__name__ for cls in service_classes()}
    assert {
        "SessionService",
        "MessageService",
        "MemoryService",
        "SearchService",
        "AuditLogService",
        "AuthService",
        "MetricsService",
        "PresenceService",
        "LockService",
        "WaitService",
    } <= names


def test_every_service_method_returns_a_typed_result() -> None:
    wrong = []
    for cls in service_classes():
        for name, fn in public_coroutines(cls):
            hint = typing.get_type_hints(fn)["return"]
            if not allowed_result(hint):
                wrong.append(f"{cls.__name__}.{name} -> {hint}")
    assert wrong == []


def test_no_service_parameter_is_left_untyped() -> None:
    wrong = []
    for cls in service_classes():
        for name, fn in public_coroutines(cls):
            hints = typing.get_type_hints(fn)
            for param in list(inspect.signature(fn).parameters)[1:]:
                hint = hints.get(param)
                if (cls.__name__, name, param) in OPEN_VALUES:
                    continue
                if hint is None or open_hint(hint):
                    wrong.append(f"{cls.__name__}.{name}({param}: {hint})")
    assert wrong == []


def test_results_are_models_with_the_success_flag() -> None:
    """Every tool-facing method (the ones taking the caller) that returns a model returns one
    whose wire form carries ``success: true`` or is a plain shape (lists of locks, snapshots)."""
    for cls in service_classes():
        for _, fn in public_coroutines(cls):
            hints = typing.get_type_hints(fn)
            if hints.get("principal") is not Principal:
                continue
            result = hints["return"]
            if isinstance(result, type) and issubclass(result, BaseModel):
                assert "success" in result.model_fields or result.__name__.endswith("Snapshot")
