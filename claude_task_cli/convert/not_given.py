"""`NOT_GIVEN`: an `equals` the author did not write (`equals: null` is an assertion)."""

from __future__ import annotations

from typing import ClassVar, Final


class _NotGiven:
    """The value of an `equals` the author did not write (`equals: null` is an assertion)."""

    _instance: ClassVar[_NotGiven | None] = None

    def __new__(cls) -> _NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven()
