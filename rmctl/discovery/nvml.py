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
               "compute_capability": "9.0", "mig_mode": [0, 0]}]}

GPUs are matched to PCI functions by ``pci_bus_id`` (NVML prints an
8-digit domain; :class:`rmctl.model.pci.PciAddress` parses both widths).
"""

from __future__ import annotations

import importlib

from rmctl.model.node import Finding
from rmctl.model.pci import GpuInfo, PciAddress

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
    ask("compute_capability", lambda: "%d.%d" % tuple(nv.nvmlDeviceGetCudaComputeCapability(h)))
    ask("mig_mode", lambda: [int(x) for x in nv.nvmlDeviceGetMigMode(h)])
    return g


def gpu_infos(facts: dict | None, source: str, findings: list[Finding]) -> dict[PciAddress, GpuInfo]:
    """Return {PCI address: GpuInfo} from NVML facts (live or a snapshot's)."""
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
        out[addr] = GpuInfo(
            source=source,
            index=g.get("index") if isinstance(g.get("index"), int) else None,
            product_name=g.get("name") if isinstance(g.get("name"), str) else None,
            memory_bytes=mem if isinstance(mem, int) and not isinstance(mem, bool) else None,
            uuid=g.get("uuid") if isinstance(g.get("uuid"), str) else None,
            compute_capability=cc if isinstance(cc, str) and not cc.startswith("error") else None,
            mig_mode=(int(mig[0]), int(mig[1])) if isinstance(mig, (list, tuple)) and len(mig) == 2
            and all(isinstance(x, int) for x in mig) else None,
            driver_version=facts.get("driver_version") if isinstance(facts.get("driver_version"), str) else None,
            cuda_driver_version=facts.get("cuda_driver_version")
            if isinstance(facts.get("cuda_driver_version"), int) else None,
        )
    return out
