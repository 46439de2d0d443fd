"""rmctl's state: the reservations file and the apply journals of one state dir.

- :mod:`~rmctl.state.records`: the typed, immutable records (reservation,
  owner, cgroup reference, hugepage holding, the state itself), read from
  and written to the v1 file unchanged;
- :mod:`~rmctl.state.ledger`: the file (versioned, checksummed), its lock
  and :meth:`~rmctl.state.ledger.Ledger.update`, the one way to change it;
- :mod:`~rmctl.state.reservations`: CPU reservations (reserve, release,
  system CPUs, reconcile, the CPU pools);
- :mod:`~rmctl.state.requests`: reservations of request results;
- :mod:`~rmctl.state.owners`: owner processes (PID + start time);
- :mod:`~rmctl.state.journal`: apply journals and what undoes them;
- :mod:`~rmctl.state.files`: the one place the state dir's files are opened.

The state dir is this machine's, whatever ``--root`` says; nothing here
writes except through the executor.
"""
