"""`rmctl request evaluate --reserve` and `rmctl request release`: parse, call the use case, render.

The use cases are rmctl.ops.request_reservations' (the evaluation under
the state lock, the release shared with ``cpu release``); registered by
rmctl.cli.request.
"""

from __future__ import annotations

from rmctl.cli.options import fmt


def reserve(settings, name: str, file: str | list[str], *, root, roots, class_dir, dry_run: bool, output,
            max_numa_nodes: int = 8) -> None:
    """Reserve the result of the request in ``file`` as ``name`` (exit 4 when it does not fit)."""
    from rmctl.cli.output import finish
    from rmctl.ops.request_reservations import reserve as reserve_op

    finish(settings, reserve_op(root, settings.state_dir, name, file, roots=roots,
                                class_dir=class_dir, dry_run=dry_run, max_numa_nodes=max_numa_nodes,
                                lock_timeout=settings.lock_timeout, kubelet_root=settings.kubelet_root),
           fmt(output), table=_reservation_table)


def _reservation_table(settings, outcome) -> None:
    from rmctl.cli.output import print_renderables, print_text
    from rmctl.ops.outcome import Outcome
    from rmctl.render.requests import evaluation_renderables

    ev, text = outcome.view
    print_renderables(settings, evaluation_renderables(ev))
    print_text(settings, Outcome(kind=outcome.kind, data=outcome.data, view=text))


def release(settings, name: str, *, dry_run: bool, output) -> None:
    """Release reservation ``name`` (any kind: the same as 'rmctl cpu release')."""
    from rmctl.cli.output import finish, print_text
    from rmctl.ops.request_reservations import release as release_op

    finish(settings, release_op(settings.root, settings.state_dir, name, dry_run=dry_run,
                                lock_timeout=settings.lock_timeout), fmt(output), table=print_text)
