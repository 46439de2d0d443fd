"""Conformance cases transcribed from Kubernetes' own tests, as data, each with its source."""
