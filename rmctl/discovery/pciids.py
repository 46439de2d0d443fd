"""Vendor, device and subsystem names from the pci.ids database, looked up lazily.

pci.ids (https://pci-ids.ucw.cz, shipped by pciutils/hwdata) is read from
the root (``usr/share/misc/pci.ids`` or ``usr/share/hwdata/pci.ids``) only
when devices are listed, and only the names of the ids present are kept.
A snapshot usually carries no pci.ids: ``rmctl snapshot capture`` stores
the names it needs in the facts file (``pci_names``, see :func:`names_fact`),
so the same names appear offline.  Without either, callers print hex ids.
"""

from __future__ import annotations

from collections.abc import Iterable

from rmctl.discovery import paths

#: key of the facts-file entry holding the names a snapshot needs
FACT_KEY = "pci_names"

#: (vendor, device, subsystem vendor, subsystem device); the last two may be None
IdKey = tuple[int, int, "int | None", "int | None"]


def _key_strings(k: IdKey) -> tuple[str, str, str | None]:
    v, d, sv, sd = k
    vs, ds = f"0x{v:04x}", f"0x{v:04x}:0x{d:04x}"
    ss = None if sv is None or sd is None else f"{ds}:0x{sv:04x}:0x{sd:04x}"
    return vs, ds, ss


def parse_pci_ids(text: str, wanted: Iterable[IdKey]) -> dict[str, str]:
    """Return the names of ``wanted`` ids found in pci.ids text, as a flat map.

    Keys: ``0x10de`` (vendor), ``0x10de:0x2335`` (device),
    ``0x10de:0x2335:0x10de:0x18bf`` (subsystem).  Format of pci.ids: a
    vendor line ``vvvv  name``, its devices ``\\tdddd  name``, their
    subsystems ``\\t\\tssss ssss  name``; the class list (``C cc  name``)
    follows the vendors and is not read.
    """
    want_v: set[int] = set()
    want_d: set[tuple[int, int]] = set()
    want_s: set[tuple[int, int, int, int]] = set()
    for v, d, sv, sd in wanted:
        want_v.add(v)
        want_d.add((v, d))
        if sv is not None and sd is not None:
            want_s.add((v, d, sv, sd))
            want_v.add(sv)  # the subsystem vendor: the card's maker (lspci's SVendor)
    out: dict[str, str] = {}
    vendor = device = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("C ") or line.startswith("C\t"):
            break  # the device class list: vendors are done
        try:
            if line.startswith("\t\t"):
                if vendor is None or device is None:
                    continue
                ids, _, name = line[2:].partition("  ")
                sv, sd = (int(x, 16) for x in ids.split())
                if (vendor, device, sv, sd) in want_s:
                    out[f"0x{vendor:04x}:0x{device:04x}:0x{sv:04x}:0x{sd:04x}"] = name.strip()
            elif line.startswith("\t"):
                if vendor is None:
                    continue
                ids, _, name = line[1:].partition("  ")
                device = int(ids, 16)
                if (vendor, device) in want_d:
                    out[f"0x{vendor:04x}:0x{device:04x}"] = name.strip()
            else:
                ids, _, name = line.partition("  ")
                v = int(ids, 16)
                vendor, device = (v, None) if v in want_v else (None, None)
                if vendor is not None:
                    out[f"0x{v:04x}"] = name.strip()
        except ValueError:
            continue  # a malformed line names nothing we can use
    return out


class PciNames:
    """Names of the ids present on one root, read once on first use."""

    def __init__(self, root, wanted: Iterable[IdKey]):
        self.root = root
        self.wanted = list(wanted)
        self._names: dict[str, str] | None = None
        self.source: str | None = None  #: the pci.ids path used, "facts", or None

    def _load(self) -> dict[str, str]:
        if self._names is None:
            self._names = {}
            for rel in paths.PCI_IDS:
                text = self.root.read(rel)
                if text:
                    self._names = parse_pci_ids(text, self.wanted)
                    self.source = rel
                    break
            else:
                if not self.root.is_live:
                    facts = self.root.facts().get(FACT_KEY)
                    if isinstance(facts, dict):
                        self._names = {str(k): str(v) for k, v in facts.items()}
                        self.source = "facts"
        return self._names

    def lookup(self, key: IdKey) -> tuple[str | None, str | None, str | None]:
        """Return (vendor name, device name, subsystem name); None where unknown.

        A subsystem id equal to the device's own ids with no entry of its
        own is named as the device, as lspci does (pciutils lib/names.c:
        subsystem ids that repeat the device ids mean "the device itself").
        """
        names = self._load()
        vs, ds, ss = _key_strings(key)
        sub = names.get(ss) if ss else None
        if sub is None and ss and key[2:] == key[:2]:
            sub = names.get(ds)
        return names.get(vs), names.get(ds), sub

    def vendor(self, vendor: int | None) -> str | None:
        """Return the name of a vendor id (a subsystem vendor, say), or None."""
        return None if vendor is None else self._load().get(f"0x{vendor:04x}")


def names_fact(root, wanted: Iterable[IdKey]) -> dict[str, str]:
    """Return the flat name map a snapshot's facts file stores under ``pci_names``."""
    return PciNames(root, wanted)._load()
