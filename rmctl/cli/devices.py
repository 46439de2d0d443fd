"""`rmctl devices list|show`: PCI devices with kind, names, NUMA locality, link and detail.

Read-only.  ``-o json|yaml`` gives the DeviceList / Device documents
(rmctl.render.devices); the ``attributes`` and ``capacity`` maps are the
input of resource classes (docs/devices.md).
"""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from rmctl.cli.complete import complete_numa_nodes, complete_pci_addresses
from rmctl.cli.errors import handle_errors
from rmctl.cli.options import Format, Output, fmt


class Kind(str, enum.Enum):
    gpu = "gpu"
    nic = "nic"
    rdma = "rdma"
    accel = "accel"
    nvme = "nvme"
    storage = "storage"
    bridge = "bridge"
    other = "other"


_complete_numa, _complete_address = complete_numa_nodes, complete_pci_addresses


def register(app: typer.Typer) -> None:
    sub = typer.Typer(name="devices", no_args_is_help=True, rich_markup_mode=None,
                      help="PCI devices: GPUs, NICs, RDMA, NVMe, accelerators; NUMA locality, SR-IOV, link.")
    sub.command("list")(list_devices)
    sub.command("show")(show_device)
    app.add_typer(sub, name="devices")


@handle_errors
def list_devices(
    ctx: typer.Context,
    kind: Annotated[list[Kind] | None, typer.Option(
        "--kind", "-k", case_sensitive=False,
        help="Only devices of this kind (repeat for several).")] = None,
    numa: Annotated[int | None, typer.Option(
        "--numa", metavar="N", min=0, autocompletion=_complete_numa,
        help="Only devices local to NUMA node N (the kernel's numa_node; when that is unknown, "
             "the nodes whose CPUs lie in the device's local CPUs).")] = None,
    output: Output = Format.table,
):
    """List PCI devices: address, kind, name, driver, NUMA node, local CPUs, link.

    Names come from pci.ids when the root has one (or the snapshot recorded
    them), else hex ids.  GPU detail (product, memory, UUID, compute
    capability, MIG) comes from NVML on the live machine (rmctl[nvidia]).
    On a narrow terminal the table leaves out the link column, then local
    CPUs (or numa), and says so; devices show and -o json have everything.

    Example: rmctl devices list --kind gpu --numa 0 -o json
    """
    from rmctl.cli.output import finish
    from rmctl.ops.devices import list_devices as list_op

    finish(ctx.obj, list_op(ctx.obj.root, kinds=[k.value for k in kind or ()], numa=numa), fmt(output),
           table=_devices_table)


def _devices_table(settings, outcome) -> None:
    from rmctl.cli.output import console
    from rmctl.render import devices as render

    node, devices = outcome.view
    render.print_devices(console(settings), list(devices), node, verbose=settings.verbose)


@handle_errors
def show_device(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(
        metavar="ADDRESS", autocompletion=_complete_address,
        help="PCI address: 0000:3b:00.0 (or 3b:00.0 for domain 0).")],
    output: Output = Format.table,
):
    """Show one PCI device: ids and names, locality, SR-IOV, link, detail, attributes.

    Example: rmctl devices show 0000:3b:00.0 -o json
    """
    from rmctl.cli.output import finish
    from rmctl.ops.devices import show_device as show_op

    finish(ctx.obj, show_op(ctx.obj.root, address), fmt(output), table=_device_table)


def _device_table(settings, outcome) -> None:
    from rmctl.cli.output import console
    from rmctl.render import devices as render

    node, dev = outcome.view
    render.print_device(console(settings), dev, node, verbose=settings.verbose)
