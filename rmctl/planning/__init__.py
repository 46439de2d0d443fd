"""Planners: pure functions from the node model (and a request) to a choice or a Plan.

Nothing here reads or writes the machine.
"""
