"""Who shipped the culprit: the customer's own install first (the lm path
or CompanyName says who made the file on that machine), then the catalog."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from analysis import catalog
from analysis.model import Culprit, ModuleInfo, module_key


_PLACEHOLDER = re.compile(r"[a-z0-9]++(?:_[a-z0-9]++)++")


def _placeholder(value: str | None) -> bool:
    """Resource strings a build system forgot to fill ('trend_company_name')."""
    return not value or bool(_PLACEHOLDER.fullmatch(value.strip()))


def identify(culprit: Culprit, modules: dict[str, ModuleInfo]) -> None:
    """Vendor and product of the culprit: lm evidence first (the customer's
    own install says who shipped the file), then the driver catalog."""
    if not culprit.module:
        return
    info = modules.get(module_key(culprit.module))
    drv = catalog.driver(culprit.image or culprit.module)
    row = None
    if info:
        row = catalog.vendor_from_text(info.path) or catalog.vendor_from_text(info.company)
        if info.image and not culprit.image:
            culprit.image = info.image
        culprit.built = built_date(info.timestamp)
    lm_product = info.product_name if info and not _placeholder(info.product_name) else None
    if row and info:
        culprit.vendor, culprit.vendor_zh = row.vendor, row.vendor_zh
        culprit.product = row.product or lm_product
        where = info.path if info.path and row.pattern in info.path.lower().replace("/", "\\") else info.company
        culprit.vendor_source, culprit.vendor_where = "install", where
        culprit.vendor_basis = f"lmvm: {where}"
        if drv and drv.vendor.lower() != row.vendor.lower():
            culprit.catalog_vendor, culprit.catalog_vendor_zh = drv.vendor, drv.vendor_zh
            culprit.vendor_basis += f" (catalog: {drv.vendor})"
    elif info and info.company and not _placeholder(info.company):
        culprit.vendor = catalog.vendor_name(info.company)
        culprit.product = lm_product
        culprit.vendor_source, culprit.vendor_where = "company", info.company
        culprit.vendor_basis = f"lmvm CompanyName: {info.company}"
        if drv and culprit.vendor and drv.vendor.lower() in culprit.vendor.lower():
            culprit.vendor, culprit.vendor_zh = drv.vendor, drv.vendor_zh
    elif drv:
        culprit.vendor, culprit.vendor_zh = drv.vendor, drv.vendor_zh
        culprit.product = lm_product
        culprit.vendor_source, culprit.vendor_where = "catalog", drv.image
        culprit.vendor_basis = f"catalog: {drv.image}"
    if drv:
        culprit.category = culprit.category or drv.category
        culprit.description = drv.product
    if culprit.third_party is False:
        culprit.vendor = culprit.vendor or "Microsoft"
        culprit.vendor_zh = culprit.vendor_zh or "微软"
        culprit.product = culprit.product or "Windows"


def built_date(timestamp: int | None) -> str | None:
    """Image timestamps are dates for third-party drivers, hashes for
    Windows 10+ inbox ones; keep only plausible dates."""
    if not timestamp:
        return None
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    if 1995 <= when.year <= datetime.now(tz=timezone.utc).year:
        return when.date().isoformat()
    return None
