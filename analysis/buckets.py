"""WinDbg's failure buckets ("0x1a_41792_VSapiNt!VSSwapShortTable",
"0x116_IMAGE_nvlddmkm.sys", "AV_VSApiNt!unknown_function") and the module
they name: read the same way whether the bucket came in a transcript or in
Windows Error Reporting's BlueScreen report."""

from __future__ import annotations

from functools import lru_cache


def bucket_text(value: str | None) -> str | None:
    """A failure bucket as one bounded token ("0x3B_lxcore!Lxp..."), or None."""
    value = (value or "").strip()
    if not value or len(value) > 200 or any(c.isspace() for c in value):
        return None
    return value


# The words !analyze puts between a bucket's bug check and its module
# ("0x133_DPC_npcap!...", "0x1E_c0000005_R_dokan2!...", "AV_VSApiNt!..."):
# dropped, as are numbers; what is left before the "!" is the module.
_BUCKET_TAGS = frozenset((
    "AV", "DPC", "ISR", "CODE", "R", "W", "X", "NULL", "PTR", "INVALID", "BAD", "POWER", "DOWN", "PNP", "CLASS",
    "STACKPTR", "ERROR", "X64", "X86", "ARM64", "LKD", "WATCHDOG", "RESOURCE", "NOT", "SINGLE", "TIMEOUT",
    "IP", "MISALIGNED", "CORRUPT", "STACK", "OVERRUN", "FATAL", "TRAP", "KERNEL", "USER", "WIN8", "DRIVER", "FAULT",
))
_UNNAMED = frozenset(("unknown", "corrupt", "memory", "unknown_image", "unknown_module", "hardware"))


# Each crash of a text is asked again (a quote, a case of many dumps of one
# fault): the answer for a bucket is made once.
@lru_cache(maxsize=1024)
def bucket_module(bucket: str | None) -> str | None:
    """'0x3B_lxcore!Lxp...' -> lxcore; '0x133_DPC_npcap!NPF_Obj' -> npcap;
    '0x116_IMAGE_nvlddmkm.sys' -> nvlddmkm; a bucket naming no module -> None."""
    value = bucket_text(bucket)
    if not value:
        return None
    if "_IMAGE_" in value:
        name = value.split("_IMAGE_", 1)[1].split("!", 1)[0]
        stem, dot, ext = name.rpartition(".")
        name = stem if dot and ext.lower() in ("sys", "dll", "exe") else name
    elif "!" in value or "+" in value:
        head = value.split("!", 1)[0] if "!" in value else value.rsplit("+", 1)[0]
        pieces = [p for p in head.split("_") if p]
        while pieces and (pieces[0].upper() in _BUCKET_TAGS or _is_number(pieces[0])):
            pieces.pop(0)
        name = "_".join(pieces)
    else:
        return None
    if not name or name.lower() in _UNNAMED or not all(c.isalnum() or c in "_.$~-" for c in name):
        return None
    return name[:120]


def _is_number(word: str) -> bool:
    w = word[2:] if word[:2].lower() == "0x" else word
    return bool(w) and all(c in "0123456789abcdefABCDEF" for c in w)
