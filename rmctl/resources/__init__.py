"""Resource classes and resource requests: DRA-style YAML, loaded and validated.

``yamlio`` reads YAML safely with positions, ``classes`` loads
ResourceClass files (and the built-ins), ``request`` loads a
ResourceRequest.  Evaluation lives in :mod:`rmctl.planning.requests`.
"""
