"""NVIDIA GPU facts from NVML (the optional extra ``rmctl[nvidia]``, nvidia-ml-py).

Used only for the live root, imported only when an NVIDIA display device is
present.  A missing library, a missing driver or any NVML error never
breaks enumeration: the GPU is listed from sysfs and a finding says why
the NVML detail is absent.

Facts shape (what ``rmctl snapshot capture`` stores under ``nvml`` in the
facts file, so a snapshot shows the same attributes offline)::

    {"driver_version": "580.159.04", "cuda_driver_version": 13000,
     "nvml_version": "13.580.159.04",
     "gpus": [{"index": 0, "name": "NVIDIA H200", "pci_bus_id": "00000000:00:06.0",
               "uuid": "GPU-...", "memory_total_bytes": 150754820096,
               "compute_capability": "9.0", "mig_mode": [0, 0],
               "brand": 14, "architecture": 9, "minor_number": 0, "addressing_mode": 0,
               "mig_devices": [{"uuid": "MIG-...", "gi_profile_id": 19, "placement_start": 0,
                                "placement_size": 1, "memory_mb": 18176, "multiprocessors": 16,
                                "copy_engines": 1, "decoders": 1, "encoders": 0,
                                "jpeg_engines": 1, "ofa_engines": 0, "profile": "1g.18gb"}]}]}

``brand``, ``architecture`` and ``addressing_mode`` are NVML's enum values
(nvmlDeviceGetBrand, nvmlDeviceGetArchitecture, nvmlDeviceGetAddressingMode);
:mod:`rmctl.model.nvidia` names them as go-nvlib does.  ``None`` for a
query NVML does not support; a key absent in an older snapshot is
reported as missing by the NVIDIA view, never guessed (the architecture
alone is derived from the compute capability, and says so).

GPUs are matched to PCI functions by ``pci_bus_id`` (NVML prints an
8-digit domain; :class:`rmctl.model.pci.PciAddress` parses both widths).
"""

from __future__ import annotations

import importlib

from rmctl.model.node import Finding
from rmctl.model.pci import GpuInfo, MigDeviceInfo, PciAddress

#: key of the facts-file entry holding the NVML facts
FACT_KEY = "nvml"
#: the import name of nvidia-ml-py
MODULE = "pynvml"


def _text(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def collect(findings: list[Finding]) -> dict | None:
    """Return NVML facts for every GPU NVML sees, or None (with a finding) when NVML is unusable."""
    try:
        nv = importlib.import_module(MODULE)
    except Exception as e:  # ImportError, or a broken install raising anything
        findings.append(Finding("nvml_unavailable",
                                f"NVML library not importable ({type(e).__name__}); GPU detail from sysfs only "
                                "(install rmctl[nvidia] for product name, memory, UUID, compute capability)",
                                severity="info"))
        return None
    try:
        nv.nvmlInit()
    except Exception as e:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        findings.append(Finding("nvml_failed", f"NVML could not start: {_text(e) or type(e).__name__}"))
        return None
    try:
        facts: dict = {"gpus": []}
        for key, call in (("driver_version", "nvmlSystemGetDriverVersion"),
                          ("cuda_driver_version", "nvmlSystemGetCudaDriverVersion"),
                          ("nvml_version", "nvmlSystemGetNVMLVersion")):
            try:
                v = getattr(nv, call)()
                facts[key] = v if isinstance(v, int) else _text(v)
            except Exception:
                facts[key] = None
        try:
            count = int(nv.nvmlDeviceGetCount())
        except Exception as e:
            findings.append(Finding("nvml_failed", f"NVML could not count GPUs: {_text(e) or type(e).__name__}"))
            return facts
        for i in range(count):
            gpu = _one_gpu(nv, i, findings)
            if gpu is not None:
                facts["gpus"].append(gpu)
        return facts
    finally:
        try:
            nv.nvmlShutdown()
        except Exception:
            pass


def _one_gpu(nv, index: int, findings: list[Finding]) -> dict | None:
    try:
        h = nv.nvmlDeviceGetHandleByIndex(index)
        bus_id = _text(nv.nvmlDeviceGetPciInfo(h).busId)
    except Exception as e:
        findings.append(Finding("nvml_failed", f"NVML GPU {index}: {_text(e) or type(e).__name__}"))
        return None
    g: dict = {"index": index, "pci_bus_id": bus_id}

    def ask(key, fn):
        try:
            g[key] = fn()
        except Exception as e:  # NotSupported (MIG on pre-Ampere), GPU lost, ...
            g[key] = None
            if type(e).__name__ != "NVMLError_NotSupported":
                findings.append(Finding("nvml_partial", f"NVML GPU {index} ({bus_id}): {key}: "
                                                        f"{_text(e) or type(e).__name__}"))

    ask("name", lambda: _text(nv.nvmlDeviceGetName(h)))
    ask("uuid", lambda: _text(nv.nvmlDeviceGetUUID(h)))
    ask("memory_total_bytes", lambda: int(nv.nvmlDeviceGetMemoryInfo(h).total))
    ask("compute_capability", lambda: "{}.{}".format(*(int(x) for x in nv.nvmlDeviceGetCudaComputeCapability(h))))
    ask("mig_mode", lambda: [int(x) for x in nv.nvmlDeviceGetMigMode(h)])
    # what NVIDIA's DRA driver publishes (rmctl.model.nvidia): enum values, named there
    ask("brand", lambda: int(nv.nvmlDeviceGetBrand(h)))
    ask("architecture", lambda: int(nv.nvmlDeviceGetArchitecture(h)))
    ask("minor_number", lambda: int(nv.nvmlDeviceGetMinorNumber(h)))
    ask("addressing_mode", lambda: int(getattr(nv.nvmlDeviceGetAddressingMode(h), "value",
                                               nv.nvmlDeviceGetAddressingMode(h))))
    if g.get("mig_mode") and g["mig_mode"][0] == 1:
        ask("mig_devices", lambda: _mig_devices(nv, h))
    return g


def _mig_devices(nv, h) -> list[dict]:
    """Return the MIG devices of GPU handle ``h``: GPU instance profile, placement, engine counts.

    The walk of NVIDIA's driver (k8s-dra-driver-gpu nvlib.go getMigDevices):
    nvmlDeviceGetMaxMigDeviceCount, nvmlDeviceGetMigDeviceHandleByIndex
    (NOT_FOUND: an empty slot), nvmlDeviceGetGpuInstanceId,
    nvmlDeviceGetGpuInstanceById + nvmlGpuInstanceGetInfo (profile id,
    placement), nvmlDeviceGetGpuInstanceProfileInfo (counts, memory).
    """
    out = []
    for i in range(int(nv.nvmlDeviceGetMaxMigDeviceCount(h))):
        try:
            m = nv.nvmlDeviceGetMigDeviceHandleByIndex(h, i)
        except Exception as e:
            if type(e).__name__ in ("NVMLError_NotFound", "NVMLError_InvalidArgument"):
                continue
            raise
        gi_id = int(nv.nvmlDeviceGetGpuInstanceId(m))
        info = nv.nvmlGpuInstanceGetInfo(nv.nvmlDeviceGetGpuInstanceById(h, gi_id))
        prof = None
        for pid in range(int(getattr(nv, "NVML_GPU_INSTANCE_PROFILE_COUNT", 16))):
            try:
                p = nv.nvmlDeviceGetGpuInstanceProfileInfo(h, pid)
            except Exception:
                continue
            if int(p.id) == int(info.profileId):
                prof = p
                break
        d = {"uuid": _text(nv.nvmlDeviceGetUUID(m)), "gi_profile_id": int(info.profileId),
             "placement_start": int(info.placement.start), "placement_size": int(info.placement.size)}
        if prof is not None:
            d.update(memory_mb=int(prof.memorySizeMB), multiprocessors=int(prof.multiprocessorCount),
                     copy_engines=int(prof.copyEngineCount), decoders=int(prof.decoderCount),
                     encoders=int(prof.encoderCount), jpeg_engines=int(prof.jpegCount),
                     ofa_engines=int(prof.ofaCount), slices=int(prof.sliceCount))
        try:
            d["profile"] = _mig_profile_name(prof, nv.nvmlDeviceGetMemoryInfo(h).total) if prof is not None else None
        except Exception:
            d["profile"] = None
        out.append(d)
    return out


def _mig_profile_name(prof, total_bytes: int) -> str:
    """Return go-nvlib's plain MIG profile name ``<slices>g.<GB>gb`` (pkg/nvlib/device/mig_profile.go).

    The memory part is go-nvlib's getMigMemorySizeGB: the profile's share of
    the GPU's memory rounded up to eighths, times the GPU's memory in whole
    GiB (rounded up), rounded (an H200: 17920 MiB of 140.4 GiB -> 1g.18gb).
    Variants (+me, -me, +gfx) are not named.  Unverified on hardware (no
    MIG GPU was available to this work).
    """
    import math

    one_mb, one_gb = 1024 * 1024, 1024 ** 3
    frac = math.ceil(prof.memorySizeMB * one_mb / total_bytes * 8) / 8
    total_gb = (total_bytes + one_gb - 1) // one_gb
    return f"{int(prof.sliceCount)}g.{round(frac * total_gb)}gb"


def _int(v) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def gpu_infos(facts: dict | None, source: str, findings: list[Finding]) -> dict[PciAddress, GpuInfo]:
    """Return {PCI address: GpuInfo} from NVML facts (live or a snapshot's)."""
    from rmctl.model.nvidia import ADDRESSING_MODES, ARCHITECTURES, BRANDS, architecture_from_cc

    out: dict[PciAddress, GpuInfo] = {}
    if not isinstance(facts, dict):
        return out
    gpus = facts.get("gpus")
    if not isinstance(gpus, list):
        return out
    for g in gpus:
        if not isinstance(g, dict):
            continue
        addr = PciAddress.try_parse(str(g.get("pci_bus_id") or ""))
        if addr is None:
            findings.append(Finding("nvml_bad_fact", f"NVML facts: GPU {g.get('index')} has no usable pci_bus_id"))
            continue
        mig = g.get("mig_mode")
        mem = g.get("memory_total_bytes")
        cc = g.get("compute_capability")
        cc = cc if isinstance(cc, str) and not cc.startswith("error") else None
        derived, missing = [], []
        # absent key (an older snapshot): missing; None: NVML did not support the query
        arch = ARCHITECTURES.get(_int(g.get("architecture")))
        if arch is None and architecture_from_cc(cc):
            arch = architecture_from_cc(cc)
            derived.append("architecture (from the compute capability)")
        brand = BRANDS.get(_int(g.get("brand")))
        if "brand" not in g:
            missing.append("brand")
        # absent (older snapshot): unknown (None); null: NVML does not support it, go-nvlib says ""
        mode = g.get("addressing_mode")
        if "addressing_mode" not in g:
            addressing = None
        elif _int(mode) is None:
            addressing = ""
        else:
            addressing = ADDRESSING_MODES.get(_int(mode))
        minor = _int(g.get("minor_number"))
        migs = []
        for m in g.get("mig_devices") or []:
            if not isinstance(m, dict):
                continue
            mb = _int(m.get("memory_mb"))
            migs.append(MigDeviceInfo(
                uuid=m.get("uuid") if isinstance(m.get("uuid"), str) else None,
                profile=m.get("profile") if isinstance(m.get("profile"), str) else None,
                gi_profile_id=_int(m.get("gi_profile_id")), placement_start=_int(m.get("placement_start")),
                placement_size=_int(m.get("placement_size")), memory_bytes=None if mb is None else mb << 20,
                multiprocessors=_int(m.get("multiprocessors")), copy_engines=_int(m.get("copy_engines")),
                decoders=_int(m.get("decoders")), encoders=_int(m.get("encoders")),
                jpeg_engines=_int(m.get("jpeg_engines")), ofa_engines=_int(m.get("ofa_engines"))))
        out[addr] = GpuInfo(
            source=source,
            index=_int(g.get("index")),
            product_name=g.get("name") if isinstance(g.get("name"), str) else None,
            memory_bytes=_int(mem),
            uuid=g.get("uuid") if isinstance(g.get("uuid"), str) else None,
            compute_capability=cc,
            mig_mode=(int(mig[0]), int(mig[1])) if isinstance(mig, (list, tuple)) and len(mig) == 2
            and all(isinstance(x, int) for x in mig) else None,
            driver_version=facts.get("driver_version") if isinstance(facts.get("driver_version"), str) else None,
            cuda_driver_version=_int(facts.get("cuda_driver_version")),
            brand=brand, architecture=arch, minor=minor, addressing_mode=addressing,
            mig_devices=tuple(migs), derived=tuple(derived), missing=tuple(missing),
        )
    return out


#: nvidia-smi -q -x elements -> NVML facts keys (for an older snapshot with the XML beside it)
def facts_from_nvidia_smi_xml(text: str) -> dict:
    """Return NVML-facts additions read from ``nvidia-smi -q -x`` output, by PCI bus id.

    ``{"<bus id>": {"brand": 14, "minor_number": 0, "addressing_mode": 0}, ...}``:
    nvidia-smi prints NVML's brand name (``NVIDIA``), the minor number and
    the addressing mode (``None``/``HMM``/``ATS``); the values are mapped
    back to NVML's enums, so they merge into the facts as if NVML had been
    asked.  Unknown texts are left out, never guessed.
    """
    import xml.etree.ElementTree as ET

    from rmctl.model.nvidia import ADDRESSING_MODES, SMI_BRANDS

    if len(text) > 16 << 20:
        raise ValueError("nvidia-smi XML larger than 16 MiB")
    root = ET.fromstring(text)
    modes = {v: k for k, v in ADDRESSING_MODES.items()}
    out: dict[str, dict] = {}
    for gpu in root.iter("gpu"):
        bus = gpu.get("id") or gpu.findtext("pci/pci_bus_id") or ""
        d: dict = {}
        brand = (gpu.findtext("product_brand") or "").strip()
        if brand in SMI_BRANDS:
            d["brand"] = SMI_BRANDS[brand]
        minor = (gpu.findtext("minor_number") or "").strip()
        if minor.isdigit():
            d["minor_number"] = int(minor)
        mode = (gpu.findtext("addressing_mode") or "").strip()
        if mode in modes:
            d["addressing_mode"] = modes[mode]
        if bus:
            out[bus.lower()] = d
    return out
