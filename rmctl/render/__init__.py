"""Renderers: plain data (JSON/YAML) and rich tables.  No I/O but printing."""
