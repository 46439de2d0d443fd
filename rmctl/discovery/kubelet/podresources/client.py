"""A client of the kubelet's PodResources API (v1) over its Unix socket.

grpc and protobuf come with the optional extra ``rmctl[kubelet]`` and are
imported only here, only when the API is asked.  Everything the API cannot
give degrades into a note, never an error: no extra installed, no socket
(the kubelet is not running, or another --kubelet-root), a kubelet too old
for ``GetAllocatableResources`` (1.21) or ``Get`` (1.27, behind the
KubeletPodResourcesGet gate), a timeout.  The kubelet serves the socket to
root only (mode 0700 directory), so rmctl must run as root to use it.
"""

from __future__ import annotations

import os
import stat

from rmctl.cpuset import CpuSet
from rmctl.errors import ParseError
from rmctl.model.kubelet import (
    ApiAllocatable,
    ApiClaimDevice,
    ApiContainer,
    ApiDevices,
    ApiMemory,
    ApiPod,
    PodResourcesView,
)

#: the kubelet's own limit on a PodResources message (pkg/kubelet/apis/podresources
#: DefaultMaxMsgSize, 16 MiB); a larger answer is refused, not read
MAX_MESSAGE_BYTES = 16 << 20

#: a node runs at most a few hundred pods (kubelet maxPods default 110); more is refused
MAX_PODS = 10_000


def query(socket: str, *, timeout: float = 5.0, pod: tuple[str, str] | None = None) -> PodResourcesView:
    """Return the API's pods (all, or ``pod`` = (namespace, name) through Get) and allocatable resources."""
    notes: list[str] = []
    if not _is_socket(socket):
        return PodResourcesView(socket=socket, notes=(f"no PodResources socket at {socket}: pod names are not "
                                                      "known (is the kubelet running? another --kubelet-root?)",))
    try:
        import grpc

        from rmctl.discovery.kubelet.podresources import api_pb2 as pb
        from rmctl.discovery.kubelet.podresources import api_pb2_grpc as pb_grpc
    except ImportError:
        return PodResourcesView(socket=socket, notes=(
            "the PodResources API needs grpcio and protobuf: pip install 'rmctl[kubelet]'",))
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
               ("grpc.enable_http_proxy", 0)]
    with grpc.insecure_channel(f"unix://{socket}", options=options) as channel:
        stub = pb_grpc.PodResourcesListerStub(channel)
        pods: list[ApiPod] = []
        try:
            if pod is not None:
                try:
                    resp = stub.Get(pb.GetPodResourcesRequest(pod_namespace=pod[0], pod_name=pod[1]), timeout=timeout)
                    pods = [_pod(resp.pod_resources)]
                except grpc.RpcError as e:
                    if not _unsupported(grpc, e):
                        raise
                    notes.append(f"the kubelet has no PodResources Get ({_why(e)}); listed all pods instead")
                    pods = [p for p in _list(stub, pb, timeout) if (p.namespace, p.name) == pod]
            else:
                pods = _list(stub, pb, timeout)
        except grpc.RpcError as e:
            return PodResourcesView(socket=socket, notes=(f"the PodResources API did not answer List: {_why(e)}",))
        except _TooMany as e:
            return PodResourcesView(socket=socket, notes=(f"the PodResources API listed {e} pods, more than "
                                                          f"the {MAX_PODS} rmctl reads",))
        except ParseError as e:
            return PodResourcesView(socket=socket, notes=(f"the PodResources API gave a bad answer: {e}",))
        allocatable = None
        try:
            a = stub.GetAllocatableResources(pb.AllocatableResourcesRequest(), timeout=timeout)
            allocatable = ApiAllocatable(cpus=_cpus(a.cpu_ids), devices=tuple(_devices(d) for d in a.devices),
                                         memory=tuple(_memory(m) for m in a.memory))
        except grpc.RpcError as e:
            notes.append(f"the kubelet gave no allocatable resources ({_why(e)})")
        except ParseError as e:
            notes.append(f"the kubelet gave bad allocatable resources ({e})")
    return PodResourcesView(socket=socket, pods=tuple(sorted(pods, key=lambda p: (p.namespace, p.name))),
                            allocatable=allocatable, notes=tuple(notes))


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def _list(stub, pb, timeout: float) -> list[ApiPod]:
    resp = stub.List(pb.ListPodResourcesRequest(), timeout=timeout)
    if len(resp.pod_resources) > MAX_PODS:
        raise _TooMany(len(resp.pod_resources))
    return [_pod(p) for p in resp.pod_resources]


class _TooMany(Exception):
    pass


def _unsupported(grpc, e) -> bool:
    """Return True for "this kubelet has no such method" (too old, or its feature gate is off)."""
    code = e.code() if hasattr(e, "code") else None
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return True
    # pkg/kubelet/apis/podresources/server_v1.go: "PodResources API Get method disabled"
    return code == grpc.StatusCode.UNKNOWN and "disabled" in (e.details() or "")


def _why(e) -> str:
    code = e.code().name if hasattr(e, "code") and e.code() is not None else "error"
    details = (e.details() if hasattr(e, "details") else "") or ""
    return f"{code}: {details[:160]}" if details else code


def _cpus(ids) -> CpuSet:
    return CpuSet(int(c) for c in ids)


def _nodes(topology) -> tuple[int, ...]:
    return tuple(sorted({int(n.ID) for n in topology.nodes})) if topology is not None else ()


def _devices(d) -> ApiDevices:
    return ApiDevices(resource=d.resource_name, device_ids=tuple(d.device_ids), nodes=_nodes(d.topology))


def _memory(m) -> ApiMemory:
    return ApiMemory(resource=m.memory_type, size=int(m.size), nodes=_nodes(m.topology))


def _pod(p) -> ApiPod:
    containers = []
    for c in p.containers:
        claims = tuple(ApiClaimDevice(claim=dr.claim_name, namespace=dr.claim_namespace, driver=r.driver_name,
                                      pool=r.pool_name, device=r.device_name,
                                      cdi_devices=tuple(x.name for x in r.cdi_devices))
                       for dr in c.dynamic_resources for r in dr.claim_resources)
        containers.append(ApiContainer(name=c.name, cpus=_cpus(c.cpu_ids),
                                       devices=tuple(_devices(d) for d in c.devices),
                                       memory=tuple(_memory(m) for m in c.memory), claims=claims))
    return ApiPod(namespace=p.namespace, name=p.name, containers=tuple(containers))
