"""Every /sys and /proc path rmctl reads, in one place (root-relative).

Discovery never spells a path anywhere else; the capture manifest
(:mod:`rmctl.discovery.manifest`) is derived from these names, so capture and discovery cannot drift.
"""

SYS_CPU = "sys/devices/system/cpu"
CPU_ONLINE = f"{SYS_CPU}/online"
CPU_PRESENT = f"{SYS_CPU}/present"
CPU_POSSIBLE = f"{SYS_CPU}/possible"
CPU_OFFLINE = f"{SYS_CPU}/offline"
CPU_ISOLATED = f"{SYS_CPU}/isolated"
CPU_NOHZ_FULL = f"{SYS_CPU}/nohz_full"
SYS_CPU_TYPES = ("sys/devices/cpu_core/cpus", "sys/devices/cpu_atom/cpus")  # Intel hybrid PMUs


def cpu_online(cpu: int) -> str:
    return f"{SYS_CPU}/cpu{cpu}/online"


def cpu_topology(cpu: int, name: str) -> str:
    return f"{SYS_CPU}/cpu{cpu}/topology/{name}"


def cpu_cache_dir(cpu: int) -> str:
    return f"{SYS_CPU}/cpu{cpu}/cache"


def cpu_cache(cpu: int, index: str, name: str) -> str:
    return f"{SYS_CPU}/cpu{cpu}/cache/{index}/{name}"


def cpu_capacity(cpu: int) -> str:
    return f"{SYS_CPU}/cpu{cpu}/cpu_capacity"


def cpu_file(cpu: int, name: str) -> str:
    return f"{SYS_CPU}/cpu{cpu}/{name}"


SYS_NODE = "sys/devices/system/node"


def node_file(node: int, name: str) -> str:
    return f"{SYS_NODE}/node{node}/{name}"


def node_hugepages(node: int) -> str:
    return f"{SYS_NODE}/node{node}/hugepages"


SYS_HUGEPAGES = "sys/kernel/mm/hugepages"
SYS_CPU_BYTEORDER = "sys/kernel/cpu_byteorder"
SYS_THP = "sys/kernel/mm/transparent_hugepage"
SYS_PCI_DEVICES = "sys/bus/pci/devices"
SYS_CLASS_NET = "sys/class/net"

PROC_MEMINFO = "proc/meminfo"
PROC_MOUNTS = "proc/mounts"
PROC_CMDLINE = "proc/cmdline"
PROC_CPUINFO = "proc/cpuinfo"
PROC_BUDDYINFO = "proc/buddyinfo"
PROC_SELF_STATUS = "proc/self/status"
PROC_SELF_CGROUP = "proc/self/cgroup"
PROC_SELF_CPUSET = "proc/self/cpuset"
PROC_SYSINFO = "proc/sysinfo"

PCI_IDS = ("usr/share/misc/pci.ids", "usr/share/hwdata/pci.ids")

# -- PCI devices (rmctl.discovery.pci) ------------------------------------
# Attribute files read per function (kernel Documentation/ABI/testing/
# sysfs-bus-pci).  ``config`` is deliberately absent: reading it traps to
# the hypervisor on VMs (milliseconds per device) and needs no parsing here.
PCI_ID_FILES = ("vendor", "device", "class", "subsystem_vendor", "subsystem_device", "revision")
PCI_LOCALITY_FILES = ("numa_node", "local_cpulist", "local_cpus")
PCI_SRIOV_FILES = ("sriov_totalvfs", "sriov_numvfs")
PCI_LINK_FILES = ("current_link_speed", "current_link_width", "max_link_speed", "max_link_width")
PCI_LABEL_FILE = "label"
#: links read per function: driver, iommu_group, physfn (a VF's PF), virtfnN (a PF's VFs)
PCI_LINKS = ("driver", "iommu_group", "physfn")
NET_FILES = ("address", "speed", "mtu", "operstate")
IB_PORT_FILES = ("state", "phys_state", "link_layer", "rate")
NVME_FILES = ("model", "firmware_rev")


def pci_device(address: str) -> str:
    return f"{SYS_PCI_DEVICES}/{address}"


# -- processes (rmctl.state.owners, rmctl cpu pin) -------------------
def proc_pid_file(pid: int, name: str) -> str:
    """Return proc/PID/NAME (stat, status, comm, cmdline, task)."""
    return f"proc/{int(pid)}/{name}"


# -- the kubelet's records (rmctl.discovery.kubelet) ------------------------
#: the kubelet's --root-dir default (cmd/kubelet/app/options/options.go)
KUBELET_ROOT = "var/lib/kubelet"
#: file names inside the kubelet's root, from the kubelet's source:
#: cm/cpumanager/cpu_manager.go cpuManagerStateFileName,
#: cm/memorymanager/memory_manager.go memoryManagerStateFileName,
#: cm/dra/manager.go draManagerStateFileName, kubelet.go getPodResourcesDir
#: (pod-resources/kubelet.sock)
KUBELET_CPU_STATE = "cpu_manager_state"
KUBELET_MEMORY_STATE = "memory_manager_state"
KUBELET_DRA_STATE = "dra_manager_state"
KUBELET_PODRESOURCES_SOCKET = "pod-resources/kubelet.sock"
#: the device manager's checkpoint is NOT under --root-dir: its directory is
#: the device plugin API's fixed DevicePluginPath
#: (k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1/constants.go), and
#: cm/devicemanager/manager.go names the file kubeletDeviceManagerCheckpoint
KUBELET_DEVICE_CHECKPOINT = "var/lib/kubelet/device-plugins/kubelet_internal_checkpoint"


def kubelet_file(kubelet_root: str, name: str) -> str:
    """Return a file of the kubelet's root directory, root-relative."""
    return f"{kubelet_root.strip('/')}/{name}"


def kubelet_checkpoints(kubelet_root: str = KUBELET_ROOT) -> tuple[str, ...]:
    """Return the root-relative paths of the kubelet's checkpoints rmctl reads (capture manifest)."""
    return tuple(dict.fromkeys((
        kubelet_file(kubelet_root, KUBELET_CPU_STATE), kubelet_file(kubelet_root, KUBELET_MEMORY_STATE),
        kubelet_file(kubelet_root, KUBELET_DRA_STATE), KUBELET_DEVICE_CHECKPOINT,
        kubelet_file(kubelet_root, "device-plugins/kubelet_internal_checkpoint"))))
