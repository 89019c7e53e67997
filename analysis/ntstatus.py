"""Exception codes of application crashes (NTSTATUS, the C++ and .NET
codes), by name and meaning in both languages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DATA = Path(__file__).with_name("data") / "exception_codes.json"


@dataclass(slots=True, frozen=True)
class ExceptionCode:
    code: int
    name: str
    en: str
    zh: str
    breakpoint: bool  # the dump was made at a breakpoint by a debugger, not by a crash

    def meaning(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@cache
def _table() -> dict[int, ExceptionCode]:
    raw = json.loads(_DATA.read_text(encoding="utf-8"))
    return {int(k, 16): ExceptionCode(int(k, 16), v["name"], v["en"], v["zh"], bool(v.get("breakpoint")))
            for k, v in raw.items() if not k.startswith("_")}


def exception(code: int | None) -> ExceptionCode | None:
    return _table().get(code & 0xFFFFFFFF) if code is not None else None
