"""A real PodResources gRPC server for tests, built from rmctl's copy of the kubelet's api.proto.

It serves fixture data (the ``api`` dict of tests/synth.py:kubelet_scenario)
on a Unix socket in a temporary directory, as the kubelet serves
``pod-resources/kubelet.sock``.  ``methods`` limits what it implements, to
play an old kubelet (List only: kubelet < 1.21; no Get: < 1.27 or the
KubeletPodResourcesGet gate off).
"""

from __future__ import annotations

import contextlib
from concurrent import futures


def _topology(pb, nodes):
    return pb.TopologyInfo(nodes=[pb.NUMANode(ID=n) for n in nodes]) if nodes else None


def _devices(pb, d):
    return pb.ContainerDevices(resource_name=d["resource_name"], device_ids=d["device_ids"],
                               topology=_topology(pb, d.get("nodes")))


def _memory(pb, m):
    return pb.ContainerMemory(memory_type=m["memory_type"], size=m["size"], topology=_topology(pb, m.get("nodes")))


def _pod(pb, p):
    return pb.PodResources(name=p["name"], namespace=p["namespace"], containers=[
        pb.ContainerResources(name=c["name"], cpu_ids=c.get("cpu_ids", []),
                              devices=[_devices(pb, d) for d in c.get("devices", ())],
                              memory=[_memory(pb, m) for m in c.get("memory", ())])
        for c in p["containers"]])


@contextlib.contextmanager
def serve(socket_path: str, api: dict, methods=("List", "GetAllocatableResources", "Get"), get_error=None):
    """Serve ``api`` on ``socket_path`` while the block runs; yields the socket path."""
    import grpc

    from rmctl.discovery.kubelet.podresources import api_pb2 as pb
    from rmctl.discovery.kubelet.podresources import api_pb2_grpc as pb_grpc

    class Lister(pb_grpc.PodResourcesListerServicer):
        pass

    def list_(self, request, context):
        return pb.ListPodResourcesResponse(pod_resources=[_pod(pb, p) for p in api["pods"]])

    def allocatable(self, request, context):
        a = api["allocatable"]
        return pb.AllocatableResourcesResponse(cpu_ids=a["cpu_ids"], devices=[_devices(pb, d) for d in a["devices"]],
                                               memory=[_memory(pb, m) for m in a["memory"]])

    def get(self, request, context):
        if get_error:  # the kubelet with its KubeletPodResourcesGet gate off answers UNKNOWN + this text
            context.abort(grpc.StatusCode.UNKNOWN, get_error)
        for p in api["pods"]:
            if (p["namespace"], p["name"]) == (request.pod_namespace, request.pod_name):
                return pb.GetPodResourcesResponse(pod_resources=_pod(pb, p))
        context.abort(grpc.StatusCode.NOT_FOUND, f"pod {request.pod_namespace}/{request.pod_name} not found")

    impl = {"List": list_, "GetAllocatableResources": allocatable, "Get": get}
    for name in methods:
        setattr(Lister, name, impl[name])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    pb_grpc.add_PodResourcesListerServicer_to_server(Lister(), server)
    server.add_insecure_port(f"unix:{socket_path}")
    server.start()
    try:
        yield socket_path
    finally:
        server.stop(None).wait()
