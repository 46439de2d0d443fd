"""Semantic versions as CEL values (DRA's semver library: semver("1.2.3"), isSemver()).

k8s.io/apiserver/pkg/cel/library/semverlib.go, blang/semver rules.  Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass



_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                     r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
                     r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$")


@dataclass(frozen=True)
class Semver:
    """A semantic version (semver.org 2.0); build metadata is ignored when comparing."""

    major: int
    minor: int
    patch: int
    pre: tuple = ()

    @classmethod
    def parse(cls, text: str) -> "Semver":
        m = _SEMVER.match(str(text))
        if not m:
            raise ValueError(f"invalid semver {text!r}")
        pre = tuple(int(p) if p.isdigit() else p for p in m.group(4).split(".")) if m.group(4) else ()
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre)

    def _key(self):
        # A pre-release sorts before the release; numeric identifiers sort
        # before alphanumeric ones (semver.org item 11).
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def cmp(self, other: "Semver") -> int:
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
