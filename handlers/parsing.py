"""Reading what people type: case numbers, CRM subjects, commands, and the
dates in "next 2021-09-15", "观察一周", "in 7 days"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# ASCII only: a full-width or Arabic-Indic "０４７１６" must not make a second
# case beside CAS-04716-..., and a Chinese word may touch the number.
CASE_NUMBER = re.compile(r"(?<![\w-])CAS-[0-9]{5}-[A-Z0-9]{6}(?![\w-])", re.I | re.ASCII)
# Something that wants to be a case number but is not one ("CAS-4716-C3F2K9").
NEAR_NUMBER = re.compile(r"(?<![\w-])CAS[-_ ]?[\w]++(?:-[\w]++)*+", re.I)

# "[案例号: CAS-04716-C3F2K9] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应 CMIT:0001032"
# Customer and title are taken greedily and stripped after: a lazy field
# followed by \s* backtracks quadratically on a long line of spaces.  Every
# run of blanks is taken whole (possessive): "\s*%?\s*" could otherwise
# split one long run in as many ways as it has blanks.
CRM_SUBJECT = re.compile(
    r"\[\s*+(?:案例号|案例編號|Case(?: No\.?| number)?)\s*+[:：]\s*+(?P<number>CAS-[0-9]{5}-[A-Z0-9]{6})\s*+\]"
    r"\s*+%?\s*+\|\s*+(?P<priority>P[1-4])\s*+\|(?P<customer>[^|\n]++)\|(?P<title>[^%\n]++)",
    re.I,
)

PRIORITY = re.compile(r"P[1-4]", re.I)
_DIGIT = re.compile(r"\d")


def case_numbers(text: str) -> list[str]:
    """The case numbers a text names, each once, in order."""
    return list(dict.fromkeys(m[0].upper() for m in CASE_NUMBER.finditer(text or "")))


def malformed_numbers(text: str) -> list[str]:
    good = {m.span() for m in CASE_NUMBER.finditer(text or "")}
    bad = []
    for m in NEAR_NUMBER.finditer(text or ""):
        if m.span() in good or any(s <= m.start() < e for s, e in good):
            continue
        token = m[0]
        # "CAS-" followed by something number-like; plain words such as
        # "case" never match because of the mandatory separator digits.
        if _DIGIT.search(token) and "-" in token:
            bad.append(token)
    return bad


@dataclass(slots=True)
class CrmSubject:
    number: str
    priority: str
    customer: str
    title: str


def crm_subject(text: str) -> CrmSubject | None:
    m = CRM_SUBJECT.search(text or "")
    if not m:
        return None
    customer, title = " ".join(m["customer"].split()), " ".join(m["title"].split())
    if not customer or not title:
        return None
    return CrmSubject(m["number"].upper(), m["priority"].upper(), customer, title)


# ------------------------------------------------------------------- dates

_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)", re.ASCII)
_CN_DATE = re.compile(r"(?:(\d{4})\s*+年\s*+)?(\d{1,2})\s*+月\s*+(\d{1,2})\s*+[日号]", re.ASCII)
_IN_DAYS = re.compile(r"\bin\s++(\d{1,3})\s++(day|days|week|weeks)\b", re.I | re.ASCII)
# "3个月" is three months; a bare "9月" is a month's name, never a count.
_CN_COUNT = re.compile(r"([一二两三四五六七八九十\d]{1,3})\s*+(天|日|周|星期|个星期|个月)(?:后|之后|以后)?", re.ASCII)
_WORDS = {
    "tomorrow": 1, "明天": 1, "后天": 2, "next week": 7, "下周": 7, "下星期": 7, "一周": 7, "一星期": 7,
}
_CN_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# Words that introduce the next action: "next 2021-09-15", "下次联系 9月15日".
_NEXT_MARK = re.compile(r"\b(?:next|due|follow[- ]?up)\b\s*+[:：]?|下次(?:联系|跟进)?\s*+[:：]?|跟进\s*+[:：]?", re.I)
_CLAUSE_END = re.compile(r"(?<=[,，;；。.])\s*+")
_MENTION = re.compile(r"^\s*+@[\w.-]++\s*+")
_COMMAND = re.compile(r"^/?(?:case|案例)(?:\s++|$)(.*+)$", re.I | re.S)


def _cn_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_NUM.get(text[1:], 0)
    if text.endswith("十"):
        return _CN_NUM.get(text[0], 0) * 10
    if "十" in text:
        a, b = text.split("十", 1)
        return _CN_NUM.get(a, 0) * 10 + _CN_NUM.get(b, 0)
    return _CN_NUM.get(text)


@dataclass(slots=True)
class Due:
    when: date
    phrase: str  # the words that said it


def find_due(text: str, today: date) -> Due | None:
    """The date a follow-up's next action falls due, if the text names one."""
    # A date that does not exist (9月31日, 2021-02-30) is no due date: it is
    # not taken as some other count of days or months either.
    m = _ISO.search(text)
    if m:
        try:
            return Due(date(int(m[1]), int(m[2]), int(m[3])), m[0])
        except ValueError:
            return None
    m = _CN_DATE.search(text)
    if m:
        year = int(m[1]) if m[1] else today.year
        try:
            when = date(year, int(m[2]), int(m[3]))
            if not m[1] and when < today:
                when = date(year + 1, int(m[2]), int(m[3]))
            return Due(when, m[0])
        except ValueError:
            return None
    m = _IN_DAYS.search(text)
    if m:
        n = int(m[1]) * (7 if m[2].lower().startswith("week") else 1)
        return Due(today + timedelta(days=n), m[0])
    m = _CN_COUNT.search(text)
    if m:
        count = _cn_number(m[1])
        if count:
            unit = m[2]
            days = count * (7 if unit in ("周", "星期", "个星期") else 30 if unit == "个月" else 1)
            return Due(today + timedelta(days=days), m[0])
    for word, days in _WORDS.items():
        if word in text.lower():
            return Due(today + timedelta(days=days), word)
    return None


# Words that put a case under observation ("观察一周": the phrase is how long).
OBSERVE_WORDS = ("观察", "observe", "monitor", "watch")
_TRIM = " ,，;；.。:：、"
# A word left dangling once the date phrase is gone ("call back on", "请于").
_DANGLING = ("on", "by", "before", "until", "at", "in")


def _drop_dangling(text: str) -> str:
    text = text.rstrip()
    if text.endswith(("于", "在")):
        return text[:-1]
    head, _, last = text.rpartition(" ")
    return head if head and last.lower() in _DANGLING else text


def _glue(left: str, right: str) -> str:
    """Two pieces of one sentence: a space between Latin words, none where
    Chinese meets."""
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left or right
    return left + (" " if left[-1].isascii() and right[0].isascii() else "") + right


def _glued(pieces: list[str]) -> str:
    """_glue over many pieces, in one pass."""
    out: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if out and out[-1][-1].isascii() and piece[0].isascii():
            out.append(" ")
        out.append(piece)
    return "".join(out)


def without_due(text: str, due: Due) -> str:
    """The text without the words that set its date: "客户说周五前不能重启 in 7
    days" -> "客户说周五前不能重启".  "观察一周" keeps its week: there the
    phrase says how long to observe."""
    at = text.lower().find(due.phrase.lower())
    if at < 0:
        return text.strip(_TRIM)
    before = text[:at].rstrip().lower().removesuffix(" for").rstrip()
    if before.endswith(OBSERVE_WORDS):
        return text.strip(_TRIM)
    left = _drop_dangling(text[:at])
    return _glue(left, text[at + len(due.phrase):]).strip(_TRIM)


def split_next_action(text: str, due: Due | None) -> tuple[str, str | None]:
    """'客户同意升级亚信安全软件，观察一周' -> ('客户同意升级亚信安全软件', '观察一周').

    The next action is the clause that holds the due date, without the
    words that set the date; what the rest says is what was agreed.  A
    follow-up of one clause ("customer did not answer, in 2 days" has the
    date in a clause of its own) is all agreed, and its next action is
    only the date (None: the desk says "follow up")."""
    if due is None:
        return text.strip(), None
    mark = _NEXT_MARK.search(text)
    if mark and mark.start() <= text.lower().find(due.phrase.lower()):
        agreed = text[: mark.start()].strip(_TRIM)
        # "next week we check": "next" belongs to the date, not before it.
        starts_date = text.lower().startswith(due.phrase.lower(), mark.start())
        action = without_due(text[mark.start() if starts_date else mark.end():], due)
        if not agreed:
            return (action or text.strip()), None
        return agreed, action or None
    # The clause (between punctuation) that contains the date phrase.
    parts = _CLAUSE_END.split(text)
    for i, part in enumerate(parts):
        if due.phrase.lower() in part.lower():
            agreed = _glued(parts[:i] + parts[i + 1:]).strip(_TRIM)
            action = without_due(part, due)
            if not agreed:
                return (action or text.strip()), None
            return agreed, action or None
    return without_due(text, due) or text.strip(), None


def strip_mention(text: str) -> str:
    """Drop a leading @mention of the bot ("@crashdesk case show ..."); the
    adapters turn their own mention markup into this plain form."""
    return _MENTION.sub("", text or "")


def parse_command(text: str) -> tuple[str, str] | None:
    """'case call CAS-... text' / '/case ...' / '@crashdesk case ...' ->
    ('call', 'CAS-... text'); None when the message is not a command."""
    text = strip_mention(text).strip()
    m = _COMMAND.match(text)
    if not m:
        return None
    rest = m[1].strip()
    if not rest:
        return "", ""
    verb, _, tail = rest.partition(" ")
    return verb.lower(), tail.strip()


def take_case(rest: str) -> tuple[str | None, str]:
    """A leading case number off an argument string."""
    rest = rest.strip()
    m = CASE_NUMBER.match(rest)
    if m:
        return m[0].upper(), rest[m.end():].strip()
    return None, rest


def leading_malformed(rest: str) -> str | None:
    """A mistyped case number at the start of the arguments ("CAS 04716-...",
    "CAS-04716-C3F2K9-x"), which must not fall back to the thread's case."""
    m = NEAR_NUMBER.match(rest.strip())
    return m[0] if m and malformed_numbers(m[0]) else None


# ------------------------------------------------------------- case open

# customer:Contoso  contact:"Li Lei"  客户：工商银行  title:'BSOD after update'
_OPTION = re.compile(
    r"(?<!\S)(?P<key>customer|contact|title|客户|联系人|标题)\s*+[:：]\s*+"
    r"(?:\"(?P<dq>[^\"\n]*+)\"|“(?P<cq>[^”\n]*+)”|'(?P<sq>[^'\n]*+)'|「(?P<jq>[^」\n]*+)」|(?P<word>[^\s\"“'「]*+))",
    re.I)
_KEYS = {"customer": "customer", "客户": "customer", "contact": "contact", "联系人": "contact",
         "title": "title", "标题": "title"}
_CAPITALISED = re.compile(r"[A-Z][a-z]*+[.]?")
_NEXT_WORD = re.compile(r"\s++([^\s:：]++)(?=\s|$)")


@dataclass(slots=True)
class OpenArgs:
    priority: str | None
    customer: str | None
    contact: str | None
    title: str | None


def parse_open(tail: str) -> OpenArgs:
    """What follows the case number of ``case open``, in any order: a
    priority, ``customer:``, ``contact:``, ``title:`` (a quoted value may
    hold spaces), and the rest is the title.  Unquoted, a contact takes a
    second capitalised word as the family name ("contact:Li Lei Laptops
    BSOD" is Li Lei); any other value is one word."""
    values: dict[str, str] = {}
    free: list[str] = []
    at = 0
    for m in _OPTION.finditer(tail):
        free.extend(tail[at:m.start()].split())
        at = m.end()
        key = _KEYS[m["key"].lower()]
        quoted = next((m[g] for g in ("dq", "cq", "sq", "jq") if m[g] is not None), None)
        value = quoted if quoted is not None else m["word"]
        if quoted is None and key == "contact" and key not in values and _CAPITALISED.fullmatch(value or ""):
            after = _NEXT_WORD.match(tail, at)
            if after and _CAPITALISED.fullmatch(after[1]):
                value = f"{value} {after[1]}"
                at = after.end()
        value = " ".join((value or "").split())
        if value and key not in values:
            values[key] = value
    free.extend(tail[at:].split())
    priority = None
    title_words = []
    for w in free:
        if priority is None and PRIORITY.fullmatch(w):
            priority = w.upper()
        else:
            title_words.append(w)
    title = " ".join(x for x in (values.get("title"), " ".join(title_words)) if x) or None
    return OpenArgs(priority, values.get("customer"), values.get("contact"), title)
