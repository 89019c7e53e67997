"""The Windows a dump came from, named from its build number, machine and
product type (workstation or server: builds such as 14393 or 17763 were
both)."""

from __future__ import annotations

from analysis import winbuilds
from analysis.model import OsInfo

_SERVER = (2, 3)  # VER_NT_DOMAIN_CONTROLLER, VER_NT_SERVER
_WORKSTATION = 1


def os_info(build: int | None, arch: str | None, product_type: int | None = None,
            version: str | None = None, buildlab: str | None = None) -> OsInfo:
    os = OsInfo(build=build if build and 0 < build < 100000 else None, arch=arch, buildlab=buildlab)
    if os.build:
        os.version = version or nt_version(os.build)
        product, version_name, _, _ = winbuilds.describe(os.build)
        if product and " / " in product and product_type in (_WORKSTATION, *_SERVER):
            client, server = product.split(" / ", 1)
            name = server if product_type in _SERVER else client
            if not name.startswith("Windows"):
                name = "Windows " + name
            if version_name and name.startswith("Windows 1"):
                name += " " + version_name
            os.product = name
    return winbuilds.fill(os)


def nt_version(build: int) -> str:
    for first, major in ((10240, "10.0"), (9600, "6.3"), (9200, "6.2"), (7600, "6.1"), (6000, "6.0"), (3790, "5.2")):
        if build >= first:
            return f"{major}.{build}"
    return f"5.1.{build}"
