"""Semantic versions as CEL values (DRA's semver library: semver("1.2.3"), isSemver()).

k8s.io/apiserver/pkg/cel/library/semverlib.go, blang/semver rules.  Standard library only.
"""

from __future__ import annotations

_IDENT_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")


def _numeric(p: str) -> bool:
    return p.isascii() and p.isdigit() and (p == "0" or p[0] != "0")


def _split_semver(text: str) -> tuple[int, int, int, tuple] | str:
    """Return (major, minor, patch, pre) of a strict semver 2.0 string, or blang/semver's error; linear time."""
    if not isinstance(text, str) or not text:
        return "Version string empty"
    if len(text) > 1024:
        return "Version string too long"
    rest, plus, build = text.partition("+")
    if plus and (not build or any(not b or not set(b) <= _IDENT_CHARS for b in build.split("."))):
        return f"Invalid character(s) found in build meta data {build!r}"
    core, dash, pre = rest.partition("-")
    nums = core.split(".", 2)
    if len(nums) != 3:
        return "No Major.Minor.Patch elements found"
    for what, n in zip(("major", "minor", "patch"), nums, strict=False):
        if not n or not (n.isascii() and n.isdigit()):
            return f"Invalid character(s) found in {what} number {n!r}"
        if len(n) > 1 and n[0] == "0":
            return f"{what.capitalize()} number must not contain leading zeroes {n!r}"
    ids: list = []
    if dash:
        for p in pre.split("."):
            if not p or not set(p) <= _IDENT_CHARS:
                return f"Invalid character(s) found in prerelease {p!r}"
            if p.isdigit():
                if not _numeric(p):
                    return f"Numeric PreRelease version must not contain leading zeroes {p!r}"
                ids.append(int(p))
            else:
                ids.append(p)
    return int(nums[0]), int(nums[1]), int(nums[2]), tuple(ids)


def is_semver(text: str) -> bool:
    return not isinstance(_split_semver(text), str)


class Semver:
    """A semantic version (semver.org 2.0); build metadata is ignored when comparing."""

    __slots__ = ("major", "minor", "patch", "pre")

    def __init__(self, major: int, minor: int, patch: int, pre: tuple = ()):
        self.major = major
        self.minor = minor
        self.patch = patch
        self.pre = pre

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Semver):
            return NotImplemented
        return (self.major, self.minor, self.patch, self.pre) == (other.major, other.minor, other.patch, other.pre)

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch, self.pre))

    def __repr__(self) -> str:
        return f"Semver({self})"

    @classmethod
    def parse(cls, text: str) -> Semver:
        parts = _split_semver(text)
        if isinstance(parts, str):
            raise ValueError(parts)
        return cls(*parts)

    def _key(self):
        # A pre-release sorts before the release; numeric identifiers sort
        # before alphanumeric ones (semver.org item 11).
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def cmp(self, other: Semver) -> int:
        a, b = self._key(), other._key()
        return (a > b) - (a < b)

    def __str__(self):
        s = f"{self.major}.{self.minor}.{self.patch}"
        return s + ("-" + ".".join(str(p) for p in self.pre) if self.pre else "")


def normalize_semver(text: str) -> str:
    """Return ``text`` as semver() with normalize=true reads it (library/semverlib.go normalizeAndParse).

    Drops a leading "v", strips leading zeros, fills a missing minor/patch
    with 0 ("v1.2" -> "1.2.0"); a short version cannot carry -pre or +build.
    """
    if len(text) > 1024:
        raise ValueError("invalid semver: too long")
    s = text[1:] if text.startswith("v") else text
    parts = s.split(".", 2)
    for i, p in enumerate(parts):
        if len(p) > 1:
            p = p.lstrip("0")
            if not p or not p[0].isdigit():
                p = "0" + p
            parts[i] = p
    if len(parts) < 3:
        if any(c in parts[-1] for c in "+-"):
            raise ValueError(f"invalid semver {text!r}: short version cannot contain PreRelease/Build meta data")
        parts += ["0"] * (3 - len(parts))
    return ".".join(parts)
