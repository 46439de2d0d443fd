"""Use cases: one module per command group, each turning plain values into an Outcome.

The layer between the CLI and the rest (pipx's ``commands/``): a use case
takes plain values (a Root, a state dir, parsed options), calls discovery,
the planners, the state and the executor, and returns an
:class:`rmctl.ops.outcome.Outcome` (the document to render, messages for
stderr, the exit status).  No typer, no printing, no ``sys.exit`` here;
the CLI parses options, calls one use case and renders what it returns.

Import direction: cli -> ops -> state, render, execute, planning,
discovery -> model (tests/test_layers.py).
"""
