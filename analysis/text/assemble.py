"""Group the events of one transcript into dumps.

A thread of e-mails holds several dumps, each split across commands
(!analyze -v, k, lmvm, !thread), and quotes earlier messages.  We cut a new
draft wherever a fact contradicts the current one or a new analysis starts,
then fold drafts that describe the same crash (same failure hash, bucket,
dump file or bug check arguments) back together, so a quoted copy never
counts as a second dump."""

from __future__ import annotations

import re
from bisect import insort
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter

from analysis import buckets, catalog
from analysis.memo import short_cached
from analysis.findings import Claim, Claimant, Findings, Site
from analysis.model import BugCheck, DumpReport, Frame, ModuleInfo, OsInfo, module_key
from analysis.text.events import MAX_ARG, Event
from analysis.winbuilds import fill as fill_os

# Fields whose differing values prove two texts describe different crashes.
IDENTITY_FIELDS = (
    "MODULE_NAME", "IMAGE_NAME", "SYMBOL_NAME", "FAILURE_BUCKET_ID", "BUCKET_ID",
    "PROCESS_NAME", "FAILURE_ID_HASH", "FAILURE_ID_HASH_STRING", "BUGCHECK_CODE",
    "BUGCHECK_P1", "BUGCHECK_P2", "BUGCHECK_P3", "BUGCHECK_P4", "OS_VERSION",
)
# The fields Draft.conflicts looks at: any other says nothing against a draft.
_CONFLICT_FIELDS = frozenset(IDENTITY_FIELDS) | {"FAILURE_BUCKET_ID", "BUGCHECK_STR", "BUGCHECK_CODE"}
# Fields that alone are enough to recognise the same crash in a quote.
MATCHING_FIELDS = ("FAILURE_ID_HASH", "FAILURE_ID_HASH_STRING", "FAILURE_BUCKET_ID", "BUCKET_ID", "SYMBOL_NAME")
_ANALYSIS_KINDS = {"field", "name_code", "arg", "bugcheck", "caused_by"}
_COMMAND_MARKERS = {"lm_header", "lm", "thread", "unloaded_header", "bare_module"}
_BUCKET_CODE = re.compile(r"(?:^|_)0x([0-9a-f]{1,8})(?=_|$)", re.I)

# What one text may give and hold while it is read.  A thread of e-mails
# holds a few dumps (the largest fixture: 3 drafts, 41 frames); 280,000
# lines of "BugCheck 1A, {n, ...}" each open a draft.  Past MAX_CRASHES
# crashes (or MAX_KEPT drafts) kept, a draft that describes none of them is
# let go and the report says crashes were cut; a draft holds at most
# MAX_DRAFT_FRAMES frames and MAX_DRAFT_MODULES modules, and the drafts
# kept MAX_HELD of both together (about 40 MB), whatever the text's size.
MAX_CRASHES = 100
MAX_KEPT = 1000
MAX_DRAFT_FRAMES = 4096
MAX_DRAFT_MODULES = 4096
MAX_HELD = 200_000
MAX_LEFT_MARKS = 100_000  # marks of the crashes let go kept to count them once each
MAX_MENTIONED = 256
MAX_PROSE_CODES = 16


def _first_hex(value: str) -> int | None:
    word = value.split()[0].replace("`", "") if value.split() else ""
    word = word[2:] if word[:2].lower() == "0x" else word
    try:
        return int(word, 16)
    except ValueError:
        return None


# The same few values are compared again each time a quote of a crash is
# folded into it (23,000 times in 8 MB of real logs): each one's normal
# form is made once.
@short_cached(maxsize=4096)
def _norm(value: str) -> str:
    return " ".join(value.lower().split())


def bucket_code(bucket: str | None) -> int | None:
    return _bucket_code(bucket) if bucket else None


# A crash's bucket is read again each time a quote of it is compared with it.
@short_cached(maxsize=4096)
def _bucket_code(bucket: str) -> int | None:
    m = _BUCKET_CODE.search(bucket)
    return int(m[1], 16) if m else None


@dataclass
class Draft:
    start: int = 0  # where it begins in the whole text (characters of the cleaned text)
    line: int = 0  # the line of the cleaned text it begins on, once counted (0: not yet)
    fields: dict = field(default_factory=dict)
    code: int | None = None
    name: str | None = None
    args: list = field(default_factory=lambda: [None, None, None, None])
    caused_by: str | None = None
    kernel_version: tuple | None = None
    built_by: str | None = None
    loading: str | None = None
    dump_kind: str | None = None
    session_time: str | None = None
    uptime: str | None = None
    thread_process: str | None = None
    exception_code: int | None = None
    exception_address: tuple | None = None
    subcode: tuple | None = None
    instruction: str | None = None
    stacks: list = field(default_factory=list)
    lms: dict = field(default_factory=dict)
    mentioned: list = field(default_factory=list)
    bsv: dict = field(default_factory=dict)
    whocrashed: tuple | None = None
    bugcheck_name: str | None = None
    driver_at_fault: str | None = None
    prose_codes: list = field(default_factory=list)
    bad_args: dict = field(default_factory=dict)  # argument number -> text no 64-bit value can be
    mode: str | None = None
    saw_name_code: bool = False
    analysis_seen: bool = False
    frames: int = 0  # frames of its stacks together
    cut: set = field(default_factory=set)  # "stack_cut" / "modules_cut": what it had no room for
    # The signatures of its stacks, once it absorbed another draft's (absorb).
    signatures: set | None = field(default=None, compare=False, repr=False)

    # -- what the draft knows ------------------------------------------
    def has_crash(self) -> bool:
        return bool(
            self.code is not None or self.fields.get("FAILURE_BUCKET_ID") or self.fields.get("MODULE_NAME")
            or self.caused_by or self.bsv or self.whocrashed
        )

    def has_anything(self) -> bool:
        return bool(self.has_crash() or self.fields or self.stacks or self.lms or self.kernel_version
                    or self.built_by or self.loading or self.thread_process or self.prose_codes)

    def identity(self) -> set:
        keys: set[tuple] = set()
        fields = self.fields
        for name in MATCHING_FIELDS:
            value = fields.get(name)
            if value:
                keys.add((name, _norm(value)))
        if self.loading:
            keys.add(("loading", _norm(self.loading)))
        if self.session_time:
            keys.add(("session", _norm(self.session_time)))
        if self.code is not None and None not in self.args:
            keys.add(("bugcheck", self.code, tuple(self.args)))
        return keys

    # -- contradiction tests ---------------------------------------------
    def conflicts(self, e: Event) -> bool:
        k, v = e.kind, e.value
        if k == "field":
            return self.field_conflicts(*v)
        if k == "name_code":
            if not catalog.same_bugcheck(v[1], self.code):
                return True
            return self.saw_name_code and all(a is not None for a in self.args)
        if k == "arg":
            return self.arg_conflicts(v[0], v[1])
        if k == "bugcheck":
            code, args = v
            if not catalog.same_bugcheck(code, self.code):
                return True
            return any(a is not None and b is not None and a != b for a, b in zip(self.args, args))
        if k == "caused_by":
            return self.caused_by is not None and _norm(self.caused_by) != _norm(v)
        if k == "thread_process":
            known = self.fields.get("PROCESS_NAME") or self.thread_process
            return bool(known) and str(known).lower() != v.lower()
        if k == "lm":
            old = self.lms.get(module_key(v[2]))
            return old is not None and old.base is not None and old.base != v[0]
        if k == "loading":
            return self.loading is not None and _norm(self.loading) != _norm(v)
        return False

    def field_conflicts(self, key: str, value: str) -> bool:
        if key in IDENTITY_FIELDS and self.fields.get(key) and _norm(self.fields[key]) != _norm(value):
            return True
        if key in ("FAILURE_BUCKET_ID", "BUGCHECK_STR") and self.code is not None:
            code = bucket_code(value)
            if code is not None and not catalog.same_bugcheck(code, self.code):
                return True
        if key == "BUGCHECK_CODE" and self.code is not None:
            code = _first_hex(value)
            return code is not None and not catalog.same_bugcheck(code, self.code)
        return False

    def arg_conflicts(self, n: int, value: int) -> bool:
        old = self.args[n - 1]
        return old is not None and old != value

    def compatible(self, other: "Draft") -> bool:
        mine, theirs = self.fields, other.fields
        for key in IDENTITY_FIELDS:
            a = mine.get(key)
            if a:
                b = theirs.get(key)
                if b and a != b and _norm(a) != _norm(b):  # (the same value again: a quote)
                    return False
        if not catalog.same_bugcheck(self.code, other.code):
            return False
        for code in (bucket_code(self.fields.get("FAILURE_BUCKET_ID")), bucket_code(other.fields.get("FAILURE_BUCKET_ID"))):
            if not catalog.same_bugcheck(code, self.code if self.code is not None else other.code):
                return False
        if any(a is not None and b is not None and a != b for a, b in zip(self.args, other.args)):
            return False
        for a, b in ((self.loading, other.loading), (self.caused_by, other.caused_by)):
            if a and b and _norm(a) != _norm(b):
                return False
        pa = self.fields.get("PROCESS_NAME") or self.thread_process
        pb = other.fields.get("PROCESS_NAME") or other.thread_process
        return not (pa and pb and pa.lower() != pb.lower())

    # -- accumulation ------------------------------------------------------
    def add(self, e: Event) -> None:
        k, v = e.kind, e.value
        if k == "field":
            self.add_field(*v)
        elif k == "name_code":
            self.name, self.code = v[0] or self.name, v[1]
            self.saw_name_code = True
            self.analysis_seen = True
        elif k == "arg":
            self.add_arg(v[0], v[1])
        elif k == "bugcheck":
            code, args = v
            self.code = code if self.code is None else self.code
            for i, a in enumerate(args):
                if self.args[i] is None:
                    self.args[i] = a
            self.analysis_seen = True
        elif k == "caused_by":
            self.caused_by = self.caused_by or v
            self.analysis_seen = True
        elif k == "kernel_version":
            self.kernel_version = self.kernel_version or v
        elif k == "built_by":
            self.built_by = self.built_by or v
        elif k == "loading":
            self.loading = self.loading or v
        elif k == "dump_kind":
            self.dump_kind = self.dump_kind or v
        elif k == "session_time":
            self.session_time = self.session_time or v
        elif k == "uptime":
            self.uptime = self.uptime or v
        elif k == "thread_process":
            self.thread_process = self.thread_process or v
        elif k == "exception_code":
            self.exception_code = self.exception_code or v
        elif k == "exception_address":
            self.exception_address = self.exception_address or v
        elif k == "subcode":
            self.subcode = self.subcode or v
        elif k == "instruction":
            self.instruction = self.instruction or v
        elif k == "mentioned_module":
            if v not in self.mentioned and len(self.mentioned) < MAX_MENTIONED:
                self.mentioned.append(v)
        elif k == "bsv":
            self.bsv.setdefault(v[0], v[1])
        elif k == "whocrashed_module":
            self.whocrashed = self.whocrashed or v
        elif k == "bugcheck_name":
            if catalog.bugcheck_by_name(v) is not None:
                self.bugcheck_name = self.bugcheck_name or v
        elif k == "driver_at_fault":
            self.driver_at_fault = self.driver_at_fault or v
        elif k == "prose_code":
            if len(self.prose_codes) < MAX_PROSE_CODES:
                self.prose_codes.append(v)
        elif k == "bad_arg":
            self.bad_args.setdefault(v[0], v[1])

    def add_field(self, key: str, value: str) -> None:
        if value and not self.fields.get(key):
            self.fields[key] = value
        # "BUGCHECK_CODE:  7e   (SYSTEM_THREAD_EXCEPTION_NOT_HANDLED)": the
        # number is the first word.
        if key in ("BUGCHECK_CODE",) and self.code is None:
            self.code = _first_hex(value)
        elif key.startswith("BUGCHECK_P") and key[-1] in "1234":
            n = int(key[-1])
            if self.args[n - 1] is None:
                number = _first_hex(value)
                if number is not None and number > MAX_ARG:
                    self.bad_args.setdefault(n, value.split()[0][:64])
                else:
                    self.args[n - 1] = number
        self.analysis_seen = True

    def add_arg(self, n: int, value: int) -> None:
        self.args[n - 1] = value
        self.analysis_seen = True

    def absorb(self, other: "Draft") -> bool:
        """Fill what this draft lacks from another view of the same crash;
        whether what its identity is made of may have changed (a quote of
        the same analysis adds nothing to it: the folder's index of it stays)."""
        marked = False
        if not other.fields.keys() <= self.fields.keys():  # (a quote of the same analysis has no field more)
            marked = True
            for key, value in other.fields.items():
                self.fields.setdefault(key, value)
        if self.code is None:
            self.code, self.name = other.code, other.name
            marked = True
        self.name = self.name or other.name
        if None in self.args:
            self.args = [a if a is not None else b for a, b in zip(self.args, other.args)]
            marked = True
        # (The instances' own dicts: a quote folded in a thousand times made
        # fifteen getattr and setattr calls each time.)
        mine, theirs = self.__dict__, other.__dict__
        marked = marked or (mine["loading"] is None and theirs["loading"] is not None) or (
            mine["session_time"] is None and theirs["session_time"] is not None)
        for slot in _FILLED_SLOTS:
            if mine[slot] is None:
                mine[slot] = theirs[slot]
        if other.stacks:
            # The signatures of the stacks held, kept from one absorb to the
            # next (a crash quoted a thousand times is absorbed a thousand
            # times; a draft kept gets stacks from absorb alone).
            if self.signatures is None:
                self.signatures = {_signature(s) for s in self.stacks}
            signatures, held = self.signatures, set(self.signatures)
            for stack in other.stacks:
                # The same stack printed again (a quote of the same analysis,
                # kb after STACK_TEXT) adds nothing any reader of the stacks uses.
                if stack and (signature := _signature(stack)) not in held:
                    held.add(signature)
                    room = MAX_DRAFT_FRAMES - self.frames
                    if room <= 0:
                        self.cut.add("stack_cut")
                        break
                    if len(stack) > room:
                        stack = stack[:room]
                        self.cut.add("stack_cut")
                        signature = _signature(stack)
                    self.stacks.append(stack)
                    signatures.add(signature)
                    self.frames += len(stack)
        for key, info in other.lms.items():
            if key in self.lms:
                self.lms[key].merge(info)
            elif len(self.lms) < MAX_DRAFT_MODULES:
                self.lms[key] = info
            else:
                self.cut.add("modules_cut")
        for name in other.mentioned:
            if name not in self.mentioned and len(self.mentioned) < MAX_MENTIONED:
                self.mentioned.append(name)
        for key, value in other.bsv.items():
            self.bsv.setdefault(key, value)
        self.prose_codes.extend(other.prose_codes[: MAX_PROSE_CODES - len(self.prose_codes)])
        self.cut |= other.cut
        for n, text in other.bad_args.items():
            self.bad_args.setdefault(n, text)
        return marked


# What absorb fills in when the draft has none of it.
_FILLED_SLOTS = ("caused_by", "kernel_version", "built_by", "loading", "dump_kind", "session_time", "uptime",
                 "thread_process", "exception_code", "exception_address", "subcode", "instruction", "whocrashed",
                 "bugcheck_name", "driver_at_fault")


# A frame's fields in Frame's order (its equality), read in C.
_FRAME_KEY = attrgetter("module", "function", "offset", "index", "child_sp", "return_address", "address", "args")


def _signature(stack: list[Frame]) -> tuple:
    """What makes two stacks equal (Frame's own equality), hashable."""
    return tuple(map(_FRAME_KEY, stack))


def _held(d: Draft) -> int:
    """Frames and modules a draft holds (what the memory of a read is counted in)."""
    return d.frames + len(d.lms)


class Grouper:
    """Events in, in the order the text states them; each draft handed to
    the folder once the next one starts (nothing is added to it after)."""

    def __init__(self, folder: "Folder"):
        self.folder = folder
        self.base = 0  # where the text the events' positions count from starts, in the whole text
        # The line (from 1) of an event's position in the text being fed:
        # a draft that will be let go keeps the line it begins on (it is let
        # go when the next one begins, which may be blocks of text later).
        self.line_at: Callable[[int], int] | None = None
        self.cur = Draft()
        self.stack: list[Frame] | None = None
        self.prev: Frame | None = None  # the last frame seen, kept or not
        self.last_kind: str | None = None
        self.lm: ModuleInfo | None = None
        self.in_unloaded = False

    def close(self) -> None:
        self.folder.add(self.cur)
        self.cur = Draft()

    def feed(self, events: list[Event]) -> None:
        folder, base, line_at = self.folder, self.base, self.line_at

        def draft(pos: int, mode: str | None) -> Draft:
            # Let go or not is settled now: nothing is added to the folder
            # before this draft.  Only the first crash let go is placed.
            line = line_at(pos) if line_at is not None and folder.first_left_out is None and folder.is_full() else 0
            return Draft(start=base + pos, line=line, mode=mode)

        cur, stack, prev, last_kind, lm, in_unloaded = (
            self.cur, self.stack, self.prev, self.last_kind, self.lm, self.in_unloaded)
        for e in events:
            k = e.kind
            if k == "frame":
                # Half the events, and none of the tests below takes one: a
                # frame starts no draft and contradicts nothing.
                in_unloaded = False
                frame: Frame = e.value
                fresh = stack is None or last_kind != "frame" or (
                    frame.index is not None and prev is not None and prev.index is not None
                    and frame.index <= prev.index)
                prev = frame
                if cur.frames < MAX_DRAFT_FRAMES and folder.held < MAX_HELD:
                    if fresh or stack is None:
                        stack = []
                        cur.stacks.append(stack)
                    stack.append(frame)
                    cur.frames += 1
                    folder.held += 1
                else:
                    cur.cut.add("stack_cut")
                    if fresh:
                        stack = None
                last_kind = k
                continue
            if k not in ("bare_module", "unloaded_header"):
                in_unloaded = False
            if k in _ANALYSIS_KINDS:
                # Most of the other events (a field, an argument): judged
                # and added here, without the walk through every other
                # kind's tests below.
                v = e.value
                if cur.mode == "command" and cur.analysis_seen:
                    folder.add(cur)
                    cur, stack, lm = draft(e.pos, "analysis"), None, None
                elif (cur.arg_conflicts(v[0], v[1]) if k == "arg"
                      else (v[0] in _CONFLICT_FIELDS and cur.field_conflicts(v[0], v[1])) if k == "field"
                      else cur.conflicts(e)):
                    folder.add(cur)
                    cur, stack, lm = draft(e.pos, cur.mode), None, None
                if cur.mode != "command":
                    cur.mode = "analysis"
                if k == "arg":
                    cur.add_arg(v[0], v[1])
                elif k == "field":
                    cur.add_field(v[0], v[1])
                else:
                    cur.add(e)
                last_kind = k
                continue
            if k == "prompt":
                command = e.value.lower()
                if command.startswith("!analyze"):
                    if cur.has_crash():
                        folder.add(cur)
                        cur = draft(e.pos, "analysis")
                    cur.mode = "analysis"
                elif command:
                    cur.mode = "command"
                stack, lm, last_kind = None, None, k
                continue
            if k in ("banner", "loading"):
                if cur.has_crash() or cur.conflicts(e):
                    folder.add(cur)
                    cur, stack, lm = draft(e.pos, "analysis"), None, None
                cur.mode = "analysis"
                if k == "loading":
                    cur.add(e)
                last_kind = k
                continue
            if k in _COMMAND_MARKERS:
                if cur.conflicts(e):
                    folder.add(cur)
                    cur, stack, lm = draft(e.pos, "command"), None, None
                cur.mode = "command"
            elif cur.conflicts(e):
                folder.add(cur)
                cur, stack, lm = draft(e.pos, cur.mode), None, None

            if k == "lm":
                start, end, name, symbols, image = e.value
                info = ModuleInfo(name=name, image=image if image and "." in image else None, base=start,
                                  size=(end - start) if end > start else None)
                key = module_key(name)
                if key in cur.lms:
                    cur.lms[key].merge(info)
                    lm = cur.lms[key]
                elif len(cur.lms) < MAX_DRAFT_MODULES and folder.held < MAX_HELD:
                    cur.lms[key] = lm = info
                    folder.held += 1
                else:
                    cur.cut.add("modules_cut")
                    lm = None
            elif k == "bare_module":
                # "start end name.sys": an entry of "Unloaded modules:" when it
                # follows that header, else an lm line cut short.
                start, end, image = e.value
                unloaded = last_kind in ("unloaded_header", "bare_module") and in_unloaded
                key = module_key(image)
                if key not in cur.lms:
                    if len(cur.lms) < MAX_DRAFT_MODULES and folder.held < MAX_HELD:
                        cur.lms[key] = ModuleInfo(name=image.rsplit(".", 1)[0], image=image, base=start,
                                                  size=end - start if end > start else None, unloaded=unloaded)
                        folder.held += 1
                    else:
                        cur.cut.add("modules_cut")
            elif k == "unloaded_header":
                in_unloaded = True
            elif k == "lm_detail":
                if lm is not None:
                    _lm_detail(lm, *e.value)
            else:
                cur.add(e)
            last_kind = k
        self.cur, self.stack, self.prev, self.last_kind, self.lm, self.in_unloaded = (
            cur, stack, prev, last_kind, lm, in_unloaded)


def group(events: list[Event]) -> list[Draft]:
    """The drafts of a whole text's events, unfolded."""
    drafts: list[Draft] = []

    class _Keep(Folder):
        def add(self, d: Draft) -> None:
            if d.has_anything():
                drafts.append(d)

    grouper = Grouper(_Keep())
    grouper.feed(events)
    grouper.close()
    return drafts


def _lm_detail(info: ModuleInfo, key: str, value: str) -> None:
    if not value:
        return
    if key == "image path":
        info.path = info.path or value
    elif key == "image name":
        info.image = info.image or value
    elif key == "loaded symbol image file":
        if "." in value and not info.image:
            info.image = value.rsplit("\\", 1)[-1]
    elif key == "timestamp":
        m = re.search(r"\(([0-9A-Fa-f]{8})\)", value)
        if m:
            info.timestamp = int(m[1], 16)
    elif key == "checksum":
        try:
            info.checksum = int(value.split()[0], 16)
        except (ValueError, IndexError):
            pass
    elif key == "imagesize":
        try:
            info.size = info.size or int(value.split()[0], 16)
        except (ValueError, IndexError):
            pass
    elif key in ("file version", "fileversion"):
        info.file_version = info.file_version or value
    elif key in ("product version", "productversion"):
        info.product_version = info.product_version or value
    elif key == "companyname":
        info.company = info.company or value
    elif key == "productname":
        info.product_name = info.product_name or value
    elif key == "filedescription":
        info.description = info.description or value


class Folder:
    """Drafts in, as the grouper finishes them; the crashes out.  A draft
    that describes a crash already kept (same failure hash, bucket, dump
    file, or bug check and arguments) is folded into it, found by those
    marks in an index rather than by comparing it with every draft kept;
    a fragment without a crash of its own (an lm block, a lone stack) joins
    the draft before it.  What is kept is bounded: past MAX_CRASHES crashes
    or MAX_KEPT drafts, a draft that folds into none kept is let go
    (``cut`` says a crash was), as are frames and modules past MAX_HELD."""

    def __init__(self) -> None:
        self.kept: list[Draft] = []
        self.idents: list[set] = []
        self.full: list[tuple | None] = []  # the four arguments, when all are known, as last indexed
        self.by_key: dict[tuple, list[int]] = {}  # mark -> the drafts kept that carry it
        self.by_args: dict[tuple, list[int]] = {}  # (mark, arguments) -> those of them with all four known
        self.by_part: dict[tuple, list[int]] = {}  # mark -> those without all four when they got it
        self.crashes = 0
        self.held = 0
        self.cut = False
        # The crashes let go, told apart by their marks (as far as MAX_LEFT_MARKS
        # marks go), and where the first of them starts in the text.
        self.left_out = 0
        self.first_left_out: int | None = None  # the line it starts on
        # The line of a position of the whole text, for a draft kept (one of
        # the crashes past the limit may be one that got its crash later).
        self.line_of: Callable[[int], int] | None = None
        self._left_marks: set = set()
        self.gone = False  # a draft was let go: the last one kept is no longer the one before

    def add(self, d: Draft) -> None:
        if not d.has_anything():
            self.held -= _held(d)
            return
        kept = self.kept
        ident = d.identity()
        target = self._same(d, ident) if ident else None
        if target is None and not d.has_crash() and kept and not self.gone and kept[-1].compatible(d):
            target = len(kept) - 1
        if target is not None:
            k = kept[target]
            before = _held(k) + _held(d)
            marked = k.absorb(d)
            self.held -= before - _held(k)
            if marked:
                self._index(target)
            return
        if self.is_full():
            self.gone = True
            self.held -= _held(d)
            if d.has_crash():
                self.cut = True
                if self.first_left_out is None:
                    self.first_left_out = d.line
                # The same crash quoted again counts once: by its code and four
                # arguments when all are known (a bucket is shared by crashes
                # of other arguments), else by the marks it has, else by what
                # it says of itself.
                marks = {("args", d.code, *d.args)} if None not in d.args else ident or {
                    ("told", d.code, *d.args, d.name, d.caused_by, d.fields.get("MODULE_NAME"))}
                if not marks & self._left_marks:
                    self.left_out += 1
                if len(self._left_marks) < MAX_LEFT_MARKS:
                    self._left_marks |= marks
            return
        if not d.line and self.line_of is not None:
            d.line = self.line_of(d.start)
        kept.append(d)
        self.idents.append(set())
        self.full.append(None)
        self._index(len(kept) - 1)
        if d.has_crash():
            self.crashes += 1

    def is_full(self) -> bool:
        """No further draft is kept: what comes now is let go."""
        return self.crashes >= MAX_CRASHES or len(self.kept) >= MAX_KEPT

    def _index(self, i: int) -> None:
        d = self.kept[i]
        ident = d.identity()
        new = ident - self.idents[i]
        args = tuple(d.args) if None not in d.args else None
        # Arguments, once all four are known, do not change (absorb fills
        # only the unknown ones): all marks go under them the first time.
        for key in (ident if args != self.full[i] else new) if args is not None else ():
            insort(self.by_args.setdefault((key, args), []), i)
        self.full[i] = args
        for key in new:
            insort(self.by_key.setdefault(key, []), i)
            if args is None:
                insort(self.by_part.setdefault(key, []), i)
        self.idents[i] = ident

    def _same(self, d: Draft, ident: set) -> int | None:
        """The first draft kept that shares a mark with ``d`` and fits it.
        One whose four arguments differ from d's four cannot fit it."""
        args = tuple(d.args) if None not in d.args else None
        lists = []
        for key in ident:
            if args is None:
                found = self.by_key.get(key)
                if found:
                    lists.append(found)
            else:
                for found in (self.by_args.get((key, args)), self.by_part.get(key)):
                    if found:
                        lists.append(found)
        if not lists:
            return None
        order = lists[0] if len(lists) == 1 else sorted(set().union(*lists))
        kept, full = self.kept, self.full
        for i in order:
            if args is not None and full[i] is not None and full[i] != args:
                continue
            if kept[i].compatible(d):
                return i
        return None

    def result(self) -> list[Draft]:
        """The drafts kept, in order; a leading crash-less fragment (lmvm
        pasted before !analyze) joined to the first draft that fits it."""
        kept = self.kept
        result: list[Draft] = []
        pending: Draft | None = None
        for d in kept:
            if pending is not None and d.compatible(pending):
                d.absorb(pending)
                pending = None
            if not d.has_crash() and not result and pending is None and len(kept) > 1:
                pending = d
                continue
            result.append(d)
        if pending is not None:
            result.append(pending)
        return result


def fold(drafts: list[Draft]) -> list[Draft]:
    """Merge drafts that describe the same crash (see Folder)."""
    folder = Folder()
    for d in drafts:
        folder.add(d)
    return folder.result()


# ----------------------------------------------------------- to DumpReports

def to_report(d: Draft, source: str) -> tuple[DumpReport, Findings]:
    report = DumpReport(source=source, kind="windbg-text")
    f = d.fields
    code, notes = d.code, []
    if code is None and d.bsv.get("Bug Check Code"):
        try:
            code = int(d.bsv["Bug Check Code"], 16)
        except ValueError:
            pass
    if code is None and d.bsv.get("Bug Check String"):
        code = catalog.bugcheck_by_name(d.bsv["Bug Check String"])
    if code is None and d.bugcheck_name:
        code = catalog.bugcheck_by_name(d.bugcheck_name)
    if code is None and d.name:
        code = catalog.bugcheck_by_name(d.name)
    if code is None:
        for key in ("FAILURE_BUCKET_ID", "BUGCHECK_STR", "BUCKET_ID", "DEFAULT_BUCKET_ID"):
            code = bucket_code(f.get(key))
            if code is not None:
                notes.append("bugcheck_from_bucket")
                break
    if code is None:
        code = _code_from_stack_args(d.stacks)
        if code is not None:
            notes.append("bugcheck_from_stack")
    if code is None and d.prose_codes:
        code = d.prose_codes[0]
        notes.append("bugcheck_from_prose")
    args = list(d.args)
    if d.bsv:
        for n in range(4):
            if args[n] is None and d.bsv.get(f"Parameter {n + 1}"):
                try:
                    number = int(d.bsv[f"Parameter {n + 1}"], 16)
                except ValueError:
                    continue
                if number > MAX_ARG:
                    d.bad_args.setdefault(n + 1, d.bsv[f"Parameter {n + 1}"][:64])
                else:
                    args[n] = number
    # A value read elsewhere (another copy of the same analysis) stands; an
    # argument only ever written too wide is flagged.
    unusable = {n: text for n, text in sorted(d.bad_args.items()) if args[n - 1] is None}
    notes.extend(f"impossible_arg{n}" for n in unusable)
    if code is not None:
        while args and args[-1] is None:
            args.pop()
        report.bugcheck = BugCheck(code=code, args=args, unusable=unusable)
        if any(a is None for a in d.args):
            report.partial = report.partial or not d.saw_name_code and d.code is None
    else:
        report.partial = True
        notes.append("no_bugcheck")

    report.failure_bucket = f.get("FAILURE_BUCKET_ID") or f.get("BUCKET_ID") or f.get("BUGCHECK_STR")
    report.symbol = f.get("SYMBOL_NAME")
    report.module_name = _clean_name(f.get("MODULE_NAME") or f.get("FAILURE_MODULE_NAME"))
    if report.module_name and report.module_name.lower() in ("unknown", "none"):
        report.module_name = None
    bucket_module = buckets.bucket_module(report.failure_bucket)
    report.image_name = _clean_name(f.get("IMAGE_NAME") or f.get("FAILURE_IMAGE_NAME"))
    report.probably_caused_by = d.caused_by
    report.failure_hash = f.get("FAILURE_ID_HASH") or f.get("FAILURE_ID_HASH_STRING")
    report.process = _clean_name(f.get("PROCESS_NAME")) or d.thread_process
    report.dump_file = d.loading
    report.crash_time = d.session_time or d.bsv.get("Crash Time")
    report.uptime = d.uptime
    report.dump_type = d.dump_kind
    exc = d.exception_code
    for key in ("EXCEPTION_CODE_STR", "EXCEPTION_CODE", "ERROR_CODE"):
        if exc is None and f.get(key):
            m = re.search(r"(?:0x)?([0-9a-fA-F]{8})\b", f[key])
            if m:
                exc = int(m[1], 16)
    report.exception_code = exc
    if d.exception_address:
        report.exception_address = d.exception_address[0]
    if d.subcode:
        report.fast_fail = d.subcode[1]

    os = OsInfo()
    version = f.get("OS_VERSION")
    if version:
        report.os = os
        parts = version.split(".")
        if len(parts) >= 3 and parts[2].isdigit():
            os.version = version
            os.build = int(parts[2])
    if d.kernel_version:
        name, build, rest = d.kernel_version
        os.build = os.build or build
        if "x64" in rest:
            os.arch = "x64"
        elif "x86" in rest:
            os.arch = "x86"
        elif "ARM" in rest.upper():
            os.arch = "arm64"
        m = re.search(r"\((\d+) procs?\)", rest)
        if m:
            report.processors = int(m[1])
    os.buildlab = d.built_by or f.get("BUILD_VERSION_STRING") or f.get("BUILDLAB_STR")
    platform = (f.get("OSPLATFORM_TYPE") or "").lower()
    if platform in ("x64", "x86", "arm64"):
        os.arch = os.arch or platform
    if os.build is None and d.bsv.get("Minor Version", "").isdigit():
        os.build = int(d.bsv["Minor Version"])
    if os.build is None and f.get("OSBUILD", "").isdigit():
        os.build = int(f["OSBUILD"])
    if os.arch is None:
        os.arch = _arch_from_stacks(d.stacks)
    report.os = fill_os(os)

    report.stack = _best_stack(d.stacks)
    report.modules = d.lms
    for name in d.mentioned:
        key = module_key(name)
        report.modules.setdefault(key, ModuleInfo(name=name.rsplit(".", 1)[0], image=name))
    notes.extend(sorted(d.cut))  # frames or modules it had no room for
    report.notes = notes
    report.identity = tuple(sorted(map(str, d.identity())))
    return report, _findings(d, report, bucket_module)


def _findings(d: Draft, report: DumpReport, bucket_module: str | None) -> Findings:
    """What the transcript says about the culprit, as claims the judge weighs."""
    claims: list[Claim] = []
    if d.driver_at_fault:
        claims.append(Claim(Claimant.KERNEL, d.driver_at_fault, f"Driver at fault: {d.driver_at_fault}",
                            tool="WinDbg", image=d.driver_at_fault))
    cb_module, cb_image = caused_by_module(d.caused_by)
    named = report.module_name or bucket_module
    image = report.image_name or cb_image
    debugger = named or cb_module or (_stem(image) if image else None)
    if debugger:
        quote = f"MODULE_NAME: {debugger}" if named else f"Probably caused by: {d.caused_by}"
        claims.append(Claim(Claimant.DEBUGGER, debugger, quote, tool="WinDbg", image=image))
    tool = _tool_blame(d)
    if tool:
        claims.append(Claim(Claimant.TOOL, tool, f"Caused by driver: {tool}", image=tool if "." in tool else None))
    faulting = _last_name(d.fields.get("FAULTING_MODULE"))
    if faulting:
        claims.append(Claim(Claimant.FAULTING_MODULE, faulting, f"FAULTING_MODULE: {faulting}", tool="WinDbg"))
    sites = []
    instruction = d.instruction or _symbol_part(d.fields.get("FAULTING_IP"))
    if instruction:
        sites.append(Site(symbol=instruction))
    if d.exception_address and d.exception_address[1]:
        sites.append(Site(symbol=d.exception_address[1], exception=True))
    return Findings(claims=claims, stacks=d.stacks, unwound=True, sites=sites, mentioned=list(d.mentioned))


def caused_by_module(text: str | None) -> tuple[str | None, str | None]:
    """'VSApiNt.sys ( VSApiNt!VSSwapShortTable+136d )' -> ('VSApiNt', 'VSApiNt.sys')"""
    if not text:
        return None, None
    m = _CAUSED_BY_NAMES.match(text)
    if not m:
        return None, None
    image, inner = m[1], m[2]
    module = inner if inner and "." not in inner else _stem(image)
    return module, image if "." in image else None


# "x.sys ( x!fn+10 )": the image, then the module inside the brackets.
_CAUSED_BY_NAMES = re.compile(r"\s*+([\w.$~-]++)\s*+(?:\(\s*+([\w.$~-]++)[!+]?)?")


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def _symbol_part(value: str | None) -> str | None:
    if not value:
        return None
    token = value.split()[0]
    return token if ("!" in token or "+" in token) else None


def _tool_blame(d: Draft) -> str | None:
    """What BlueScreenView or WhoCrashed blamed, when their report was pasted."""
    if d.bsv.get("Caused By Driver"):
        return d.bsv["Caused By Driver"]
    if d.whocrashed:
        return d.whocrashed[0]
    return None


def _last_name(value: str | None) -> str | None:
    """'FAULTING_MODULE: fffff80539f20000 MemoryMon' -> 'MemoryMon'"""
    if not value:
        return None
    return value.split()[-1]


def _code_from_stack_args(stacks: list[list[Frame]]) -> int | None:
    """kb shows KeBugCheckEx's first argument: the bug check code."""
    for stack in stacks:
        for frame in stack[:6]:
            if frame.function and frame.function.lower() == "kebugcheckex" and frame.args:
                code = frame.args[0]
                if catalog.bugcheck(code) is not None:
                    return code
    return None


def _clean_name(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().strip("`'\"")
    return value.split()[0] if value else None


def _best_stack(stacks: list[list[Frame]]) -> list[Frame]:
    """The faulting thread's stack: the one through KeBugCheck if shown,
    else the longest."""
    if not stacks:
        return []
    for s in stacks:
        if any(f.function and f.function.lower().startswith("kebugcheck") for f in s[:3]):
            return s
    return max(stacks, key=len)


def _arch_from_stacks(stacks: list[list[Frame]]) -> str | None:
    for s in stacks:
        for f in s:
            value = f.return_address or f.child_sp
            if value:
                return "x64" if value > 0xFFFFFFFF else "x86"
    return None
