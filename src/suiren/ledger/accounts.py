"""Accounts: who owns the money, under which scheme, of what kind, in which region.

An account is identified by its key, ``owner_type:owner_id:scheme:kind:region`` — for
example ``worker:W1A2B3:employee_pension:individual_account:440100``. Balances are signed
integers in fen: money held is positive; the collection account of a region (money
received from outside, 征收) goes negative by the same amount, so that the sum of all
accounts is always zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache


class OwnerType(StrEnum):
    WORKER = "worker"
    REGION = "region"
    PLATFORM = "platform"
    SYSTEM = "system"


class Scheme(StrEnum):
    EMPLOYEE_PENSION = "employee_pension"  # 职工基本养老保险
    EMPLOYEE_MEDICAL = "employee_medical"  # 职工基本医疗保险
    RESIDENT_PENSION = "resident_pension"  # 城乡居民基本养老保险
    RESIDENT_MEDICAL = "resident_medical"  # 城乡居民基本医疗保险
    OCCUPATIONAL_INJURY = "occupational_injury"  # 新就业形态人员职业伤害保障
    COMMERCIAL_PENSION = "commercial_pension"  # 专属商业养老保险


class AccountKind(StrEnum):
    INDIVIDUAL_ACCOUNT = "individual_account"  # 个人账户 (owned by a worker)
    POOLED_FUND = "pooled_fund"  # 统筹基金 (owned by a region)
    POOLED_ENTITLEMENT = "pooled_entitlement"  # the worker's share of a region's pooled fund
    CLEARING = "clearing"  # 清算: money between regions, zero after settlement
    PAYABLE = "payable"  # benefits decided but not yet paid
    COLLECTION = "collection"  # 征收: money received from outside, negative by design
    OPENING = "opening"  # 期初: balances brought from an earlier system, negative by design


KEY_CACHE_MAX = 1 << 20  # account keys are immutable: building one per posting is wasted work
_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_REGION_RE = re.compile(r"^\d{6}$")


@dataclass(frozen=True, slots=True, order=True)
class AccountKey:
    """The identity of an account. Every account belongs to a region."""

    owner_type: OwnerType
    owner_id: str
    scheme: Scheme
    kind: AccountKind
    region: str

    key: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.owner_id):
            raise AssertionError(f"account owner id {self.owner_id!r} is not a plain identifier")
        if not _REGION_RE.match(self.region):
            raise AssertionError(f"account region {self.region!r} is not a GB/T 2260 code")
        text = f"{self.owner_type.value}:{self.owner_id}:{self.scheme.value}:{self.kind.value}:{self.region}"
        object.__setattr__(self, "key", text)

    def __str__(self) -> str:
        return self.key

    @classmethod
    def parse(cls, text: str) -> AccountKey:
        owner_type, owner_id, scheme, kind, region = text.split(":")
        return cls(OwnerType(owner_type), owner_id, Scheme(scheme), AccountKind(kind), region)


@lru_cache(maxsize=KEY_CACHE_MAX)
def individual_account(worker_id: str, scheme: Scheme, region: str) -> AccountKey:
    return AccountKey(OwnerType.WORKER, worker_id, scheme, AccountKind.INDIVIDUAL_ACCOUNT, region)


@lru_cache(maxsize=KEY_CACHE_MAX)
def pooled_entitlement(worker_id: str, scheme: Scheme, region: str) -> AccountKey:
    """The worker's share of ``region``'s pooled fund: pooled money paid for this worker."""
    return AccountKey(OwnerType.WORKER, worker_id, scheme, AccountKind.POOLED_ENTITLEMENT, region)


@lru_cache(maxsize=KEY_CACHE_MAX)
def pooled_fund(scheme: Scheme, region: str) -> AccountKey:
    """The region's pooled fund beyond its workers' entitlements (interest, benefits paid)."""
    return AccountKey(OwnerType.REGION, region, scheme, AccountKind.POOLED_FUND, region)


@lru_cache(maxsize=KEY_CACHE_MAX)
def collection(scheme: Scheme, region: str) -> AccountKey:
    return AccountKey(OwnerType.SYSTEM, "collection", scheme, AccountKind.COLLECTION, region)


@lru_cache(maxsize=KEY_CACHE_MAX)
def opening(scheme: Scheme, region: str) -> AccountKey:
    """The counterpart of balances migrated from an agency's earlier system (期初余额): what
    the region's funds held for its workers before Suiren, negative by design."""
    return AccountKey(OwnerType.SYSTEM, "opening", scheme, AccountKind.OPENING, region)


@lru_cache(maxsize=KEY_CACHE_MAX)
def clearing(scheme: Scheme, region: str) -> AccountKey:
    return AccountKey(OwnerType.SYSTEM, "clearing", scheme, AccountKind.CLEARING, region)
