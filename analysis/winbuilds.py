"""Windows build numbers to the names customers and vendors use.

Vendors' known-issue articles say "Windows 10 April 2018 Update" or "1803";
dumps say 17134.  This table is what lets the two meet."""

from __future__ import annotations

import re

from analysis.model import OsInfo

# build: (product, version, marketing name, codename)
BUILDS: dict[int, tuple[str, str | None, str | None, str | None]] = {
    2600: ("Windows XP", None, None, None),
    3790: ("Windows Server 2003 / XP x64", None, None, None),
    6000: ("Windows Vista", None, None, None),
    6001: ("Windows Vista SP1 / Server 2008", "SP1", None, None),
    6002: ("Windows Vista SP2 / Server 2008 SP2", "SP2", None, None),
    6003: ("Windows Server 2008 SP2", "SP2", None, None),
    7600: ("Windows 7 / Server 2008 R2", "RTM", None, "win7"),
    7601: ("Windows 7 SP1 / Server 2008 R2 SP1", "SP1", None, "win7sp1"),
    9200: ("Windows 8 / Server 2012", None, None, "win8"),
    9600: ("Windows 8.1 / Server 2012 R2", None, None, "winblue"),
    10240: ("Windows 10", "1507", "RTM", "th1"),
    10586: ("Windows 10", "1511", "November Update", "th2"),
    14393: ("Windows 10 / Server 2016", "1607", "Anniversary Update", "rs1"),
    15063: ("Windows 10", "1703", "Creators Update", "rs2"),
    16299: ("Windows 10", "1709", "Fall Creators Update", "rs3"),
    17134: ("Windows 10", "1803", "April 2018 Update", "rs4"),
    17763: ("Windows 10 / Server 2019", "1809", "October 2018 Update", "rs5"),
    18362: ("Windows 10", "1903", "May 2019 Update", "19h1"),
    18363: ("Windows 10", "1909", "November 2019 Update", "19h2"),
    19041: ("Windows 10", "2004", "May 2020 Update", "vb"),
    19042: ("Windows 10", "20H2", "October 2020 Update", "vb"),
    19043: ("Windows 10", "21H1", "May 2021 Update", "vb"),
    19044: ("Windows 10", "21H2", "November 2021 Update", "vb"),
    19045: ("Windows 10", "22H2", "2022 Update", "vb"),
    20348: ("Windows Server 2022", "21H2", None, "fe"),
    22000: ("Windows 11", "21H2", None, "co"),
    22621: ("Windows 11", "22H2", "2022 Update", "ni"),
    22631: ("Windows 11", "23H2", "2023 Update", "ni"),
    25398: ("Windows Server 23H2", "23H2", None, "zn"),
    26100: ("Windows 11 / Server 2025", "24H2", "2024 Update", "ge"),
    26200: ("Windows 11", "25H2", "2025 Update", "ge"),
}

# A branch name is short: the lazy branch is bounded, so a long word is not
# tried at every length (tests/test_regex_linear.py).
_BUILDLAB = re.compile(r"(\d{4,5})\.(\d++)\.(amd64|x86|arm64|arm|ia64|wow64)(?:fre|chk)\.(\w{1,64}?)(?:_release\w*+)?\.(\d{6})", re.I)
_ARCH = {"amd64": "x64", "x86": "x86", "arm64": "arm64", "arm": "arm", "ia64": "ia64"}


def describe(build: int | None) -> tuple[str | None, str | None, str | None, str | None]:
    if build is None:
        return None, None, None, None
    if build in BUILDS:
        return BUILDS[build]
    # Insider and unlisted builds: name them after the nearest release below.
    lower = [b for b in BUILDS if b < build]
    if not lower:
        return None, None, None, None
    product, _, _, codename = BUILDS[max(lower)]
    return product, None, None, codename


def fill(os: OsInfo) -> OsInfo:
    """Complete an OsInfo from its build number and buildlab string."""
    if os.buildlab:
        m = _BUILDLAB.search(os.buildlab)
        if m:
            os.build = os.build or int(m[1])
            os.arch = os.arch or _ARCH.get(m[3].lower())
            os.codename = os.codename or m[4].lower()
    product, version, release, codename = describe(os.build)
    if product:
        os.product = os.product or (f"{product} {version}" if version and product.startswith("Windows 1") else product)
        os.release = os.release or release
        os.codename = os.codename or codename
    return os


_MONTHS = {m: i for i, m in enumerate(("January", "February", "March", "April", "May", "June", "July", "August",
                                        "September", "October", "November", "December"), 1)}
_RELEASE_ZH = {"Anniversary Update": "周年更新", "Creators Update": "创意者更新",
               "Fall Creators Update": "秋季创意者更新", "November Update": "11 月更新"}


def release_zh(release: str | None) -> str | None:
    """The name Microsoft China gives a release: 'April 2018 Update' ->
    '2018 年 4 月更新', '2022 Update' -> '2022 更新'."""
    if not release:
        return None
    if release in _RELEASE_ZH:
        return _RELEASE_ZH[release]
    words = release.split()
    if len(words) == 3 and words[0] in _MONTHS and words[1].isdigit() and words[2] == "Update":
        return f"{words[1]} 年 {_MONTHS[words[0]]} 月更新"
    if len(words) == 2 and words[0].isdigit() and words[1] == "Update":
        return f"{words[0]} 更新"
    return release
