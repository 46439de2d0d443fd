"""Kubernetes exports of the node's state: pure functions of (NodeModel, profile, state).

- :mod:`rmctl.exports.kubelet`: a KubeletConfiguration fragment (CPU,
  Topology and Memory Manager settings);
- :mod:`rmctl.exports.resourceslice`: a ``resource.k8s.io/v1`` ResourceSlice
  of the node's devices, with the attributes rmctl's classes select on;
- :mod:`rmctl.exports.nfd`: a Node Feature Discovery local feature file.

Nothing here reads the machine or writes anything: the CLI gathers the
inputs and prints the result.
"""
