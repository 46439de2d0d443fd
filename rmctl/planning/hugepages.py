"""Hugepage planners: pure functions from a NodeModel and a request to a Plan.

Nothing here reads or writes the machine; the CLI discovers, calls one
planner, then prints the plan (``--dry-run``) or hands it to the executor.

Kernel semantics relied on (Documentation/admin-guide/mm/hugetlbpage.rst,
mm/hugetlb.c, fs/hugetlbfs/inode.c):

- writing ``nr_hugepages`` asks for a pool size; the kernel grants what
  contiguous memory allows and reads back what it reached;
- shrinking below the pages in use (or reserved) turns the balance into
  surplus pages, freed when their users let go;
- ``nr_overcommit_hugepages`` exists only globally and is refused (EINVAL)
  for gigantic pages (larger than the buddy allocator's largest block);
- a hugetlbfs mount's ``size``/``min_size`` may be a percentage of the
  pool; the kernel rounds both down to whole pages and, at mount time,
  reserves ``min_size`` (the mount fails without enough free pages);
  ``/proc/mounts`` shows pagesize always, size/min_size in bytes,
  nr_inodes when set, uid/gid when not root and mode when not 0755.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rmctl.cpuset import CpuSet
from rmctl.errors import ConflictError, ParseError, UnsatisfiableError, UsageError
from rmctl.model.fingerprint import fingerprint
from rmctl.model.hugepage_actions import SetPoolPages, pool_file, pool_name
from rmctl.model.memory import HugepagePool
from rmctl.model.node import NodeModel
from rmctl.model.plan import BootArgs, MakeDir, Mount, Plan, RemoveDir, Unmount, WriteValue
from rmctl.model.record import FrozenDict
from rmctl.names import path_problem
from rmctl.units import format_size, parse_size

#: read-back retries for nr_hugepages: writing again makes the kernel try
#: again after compaction; a short wait lets kcompactd/reclaim catch up
RETRIES = 3
RETRY_DELAY = 0.25


# -- parsing the request -----------------------------------------------------

def _pages(n: int) -> str:
    """Return ``1 page`` / ``n pages``."""
    return f"{n} page" if n == 1 else f"{n} pages"


def kernel_size(nbytes: int) -> str:
    """Return a size the kernel's memparse reads (``2M``, ``1G``, ``64K``)."""
    for suffix, factor in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if nbytes >= factor and nbytes % factor == 0:
            return f"{nbytes // factor}{suffix}"
    return str(nbytes)


def page_size_of(node: NodeModel, text: str) -> int:
    """Return the page size named by ``text``; UsageError unless the kernel offers it."""
    size = parse_size(text, what="page size")
    offered = node.page_sizes()
    if size not in offered:
        have = ", ".join(format_size(s) for s in offered) or "none"
        raise UsageError(f"page size {text} is not offered by this kernel (offered: {have})",
                         hint="see 'rmctl hugepages show'")
    return size


def parse_count(text: str, what: str) -> int:
    """Return a non-negative page count."""
    try:
        n = int(text.strip())
    except ValueError:
        raise ParseError(f"bad page count {text!r} in {what}: expected a whole number") from None
    if n < 0:
        raise ParseError(f"bad page count {n} in {what}: negative")
    return n


def parse_assignment(text: str) -> tuple[str, str | None]:
    """Split ``SIZE=COUNT`` (or a bare ``SIZE``) into its two texts."""
    size, eq, count = text.partition("=")
    if not size.strip():
        raise ParseError(f"bad argument {text!r}: expected SIZE=COUNT, e.g. 2M=512")
    return size.strip(), (count.strip() if eq else None)


def parse_per_node(text: str) -> dict[int, int]:
    """Parse ``0:512,1:256`` (the kernel's node format) into {node: pages}."""
    out: dict[int, int] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        n, colon, c = item.partition(":")
        if not colon:
            raise ParseError(f"bad per-node count {item!r}: expected NODE:COUNT, e.g. 0:512,1:256")
        try:
            nid = int(n)
        except ValueError:
            raise ParseError(f"bad node {n!r} in {text!r}") from None
        if nid < 0:
            raise ParseError(f"bad node {nid} in {text!r}")
        if nid in out:
            raise ParseError(f"node {nid} given twice in {text!r}")
        out[nid] = parse_count(c, text)
    if not out:
        raise ParseError(f"bad per-node counts {text!r}: expected NODE:COUNT,..., e.g. 0:512,1:256")
    return out


def parse_nodes(text: str) -> list[int]:
    """Return the nodes of a list in cpulist syntax (``0,1``, ``0-3``, ``1,0``), in the order given.

    The order matters to ``--spread local``, which fills the first node first;
    a node named twice is kept at its first place.
    """
    out: list[int] = []
    items = text.split(",")
    if not text.strip() or any(not i.strip() for i in items):
        CpuSet.parse(text)  # raises the usual ParseError for an empty item
    for item in items:
        for nid in CpuSet.parse(item).sorted():
            if nid not in out:
                out.append(nid)
    if not out:
        raise ParseError(f"bad node list {text!r}: no node")
    return out


def check_node(node: NodeModel, nid: int, page_size: int | None = None) -> None:
    """UsageError unless NUMA node ``nid`` exists, has memory and a pool of ``page_size``."""
    nodes = node.topology.nodes
    if nid not in nodes:
        have = CpuSet(nodes).to_list() or "none"
        raise UsageError(f"NUMA node {nid} does not exist (nodes: {have})")
    nd = nodes[nid]
    if nd.memory_total == 0:
        have = CpuSet(memory_nodes(node)).to_list() or "none"
        raise UsageError(f"NUMA node {nid} has no memory, so it has no hugepage pools",
                         hint=f"nodes with hugepage pools: {have}")
    if page_size is not None and node_pool(node, page_size, nid) is None:
        raise UsageError(f"NUMA node {nid} has no {format_size(page_size)} hugepage pool "
                         f"(sys/devices/system/node/node{nid}/hugepages is missing it)",
                         hint="the kernel makes per-node pools only for nodes with memory")


def node_pool(node: NodeModel, page_size: int, nid: int | None) -> HugepagePool | None:
    """Return the pool of ``page_size`` globally (``nid`` None) or on node ``nid``."""
    pools = node.hugepages if nid is None else node.topology.nodes[nid].hugepages
    for p in pools:
        if p.page_size == page_size:
            return p
    return None


def memory_nodes(node: NodeModel) -> list[int]:
    """Return the NUMA nodes that have memory (and so hugepage pools)."""
    return [n.id for n in node.topology.nodes.values() if n.memory_total != 0 and n.hugepages]


# -- set ------------------------------------------------------------------------

@dataclass(frozen=True)
class PoolChange:
    """One pool a plan changes: what it holds now and what is asked."""

    page_size: int
    node: int | None
    previous: int  #: the persistent pool (nr_hugepages - surplus_hugepages)
    requested: int
    free: int
    in_use: int  #: pages allocated or reserved; the pool cannot drop below them
    path: str
    note: str = ""
    surplus: int = 0  #: surplus pages now (nr_hugepages = previous + surplus)

    def to_data(self) -> dict:
        return {"page_size": self.page_size, "node": self.node, "previous": self.previous,
                "requested": self.requested, "free": self.free, "in_use": self.in_use,
                "surplus": self.surplus, "path": self.path, "note": self.note}


@dataclass(frozen=True)
class PoolPlan:
    """A plan for pool sizes, with the pools it touches and the memory it needs (never changed once made)."""

    plan: Plan
    pools: Sequence[PoolChange] = ()  #: kept as a tuple
    needs: Sequence[dict] = ()  #: per node (or global): bytes needed vs free; kept as a tuple
    forced: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "pools", tuple(self.pools))
        object.__setattr__(self, "needs", tuple(self.needs))

    def to_data(self) -> dict:
        return {"plan": self.plan.to_data(), "pools": [p.to_data() for p in self.pools],
                "memory": [dict(n) for n in self.needs], "forced": self.forced}


def plan_set(node: NodeModel, requests: Sequence[tuple[int, Mapping[int | None, int]]], *,
             overcommit: int | None = None, overcommit_sizes: list[int] | None = None,
             force: bool = False, gigantic_above: int | None = None,
             command: str = "hugepages set", nodes_named: bool = False) -> PoolPlan:
    """Return the plan setting pool sizes: ``requests`` is [(page_size, {node or None: pages})].

    ``nodes_named``: the caller asked for node pools (``--numa``,
    ``--per-node``), so an overcommit gets the note that it is global.

    Raises UsageError for unknown sizes or nodes and for overcommit of
    gigantic pages, UnsatisfiableError when the pages to add do not fit the
    free memory of their node (unless ``force``).  Shrinks come before
    grows so the memory they free is there for the grows.
    """
    changes: list[PoolChange] = []
    seen: set[tuple[int, int | None]] = set()
    for page_size, targets in requests:
        if not node.hugepages or page_size not in node.page_sizes():
            raise UsageError(f"page size {format_size(page_size)} is not offered by this kernel")
        for nid, count in targets.items():
            if nid is not None:
                check_node(node, nid, page_size)
            if (page_size, nid) in seen:
                raise UsageError(f"the {pool_name(page_size, nid)} is asked for twice")
            seen.add((page_size, nid))
            pool = node_pool(node, page_size, nid)
            if pool is None:
                raise UsageError(f"no {pool_name(page_size, nid)} under this root")
            # What the pool cannot drop below: allocated pages plus reserved
            # ones (set_max_huge_pages' min_count = resv + nr_huge_pages -
            # free_huge_pages).  nr_hugepages (sysfs, global and per node)
            # counts surplus pages too; what a write sets, and what
            # SetPoolPages reads back, is the persistent pool: nr - surplus.
            in_use = pool.total - pool.free + (pool.reserved or 0)
            persistent = max(0, pool.total - pool.surplus)
            note = ""
            if count < in_use:
                note = (f"{in_use} pages are in use or reserved: the kernel keeps {in_use - count} "
                        f"of them as surplus pages until their users free them "
                        f"(nr_hugepages reads {in_use} until then)")
            changes.append(PoolChange(page_size, nid, persistent, count, pool.free, in_use,
                                      pool_file(page_size, nid, "nr_hugepages"), note, pool.surplus))
    if global_and_node := ({c.page_size for c in changes if c.node is None}
                           & {c.page_size for c in changes if c.node is not None}):
        raise UsageError(f"{format_size(min(global_and_node))} pages asked both globally and per node: "
                         "choose one")
    needs = memory_needs(node, changes)
    short = [n for n in needs if n["free"] is not None and n["needed"] > n["free"]]
    if short and not force:
        n = short[0]
        where = "this machine (all NUMA nodes together)" if n["node"] is None else f"NUMA node {n['node']}"
        raise UnsatisfiableError(
            f"the request needs {format_size(n['needed'])} more hugepage memory on {where}, "
            f"which has {format_size(n['free'])} free: nothing was written",
            hint="ask for fewer pages, or add --force to let the kernel grant what it can",
            details={"memory": needs})
    actions: list = []
    ordered = sorted(changes, key=lambda c: (c.requested >= c.previous, c.page_size, c.node or -1))
    for c in ordered:
        actions.append(SetPoolPages(path=c.path, value=str(c.requested), expect=str(c.previous),
                                    retries=RETRIES if c.requested > c.previous else 0,
                                    retry_delay=RETRY_DELAY, page_size=c.page_size, node=c.node))
    for size in overcommit_sizes or ():
        if overcommit is None:
            break
        if gigantic_above is not None and size > gigantic_above:
            raise UsageError(
                f"overcommit is not possible for {format_size(size)} pages: they are gigantic "
                f"(larger than the buddy allocator's largest block, {format_size(gigantic_above)}), "
                "so the kernel cannot allocate surplus ones on demand and refuses "
                "nr_overcommit_hugepages (EINVAL)",
                hint="size the persistent pool instead (SIZE=COUNT), or allocate at boot: "
                     "rmctl hugepages boot-args")
        pool = node_pool(node, size, None)
        if pool is None or pool.overcommit is None:
            raise UsageError(f"no nr_overcommit_hugepages for {format_size(size)} pages under this root")
        actions.append(WriteValue(path=pool_file(size, None, "nr_overcommit_hugepages"),
                                  value=str(overcommit), expect=str(pool.overcommit)))
    notes = [f"{pool_name(c.page_size, c.node)}: {c.note}" for c in ordered if c.note]
    if short:
        notes.append("--force: the request exceeds free memory; the kernel will grant what it can")
    if overcommit is not None and (nodes_named or any(c.node is not None for c in changes)):
        notes.append("nr_overcommit_hugepages is global (the kernel has no per-node file): "
                     "surplus pages may come from any node the allocating task may use")
    plan = Plan(actions=actions, command=command, fingerprint=fingerprint(node), notes=notes)
    return PoolPlan(plan=plan, pools=ordered, needs=needs, forced=bool(short))


def memory_needs(node: NodeModel, changes: list[PoolChange]) -> list[dict]:
    """Return, per NUMA node (or globally), the bytes the grows need and the free memory there.

    Shrinks give back their free pages, which the grows on the same node
    (or globally) may use.  A grow first turns surplus pages into
    persistent ones (set_max_huge_pages), which needs no new memory.
    """
    out = []
    for nid in sorted({c.node for c in changes}, key=lambda n: -1 if n is None else n):
        mine = [c for c in changes if c.node == nid]
        grow = sum(max(0, c.requested - c.previous - c.surplus) * c.page_size for c in mine)
        back = sum(min(max(0, c.previous - c.requested), c.free) * c.page_size for c in mine)
        if nid is None:
            free = total_free(node)
        else:
            free = node.topology.nodes[nid].memory_free
        out.append({"node": nid, "needed": max(0, grow - back), "free": free})
    return out


def total_free(node: NodeModel) -> int | None:
    """Return the free memory the global pools draw on, in bytes.

    The sum of the nodes' MemFree where every node reports it (the kernel
    allocates hugepages node by node; under some hypervisors proc/meminfo's
    MemFree counts memory no node offers), else proc/meminfo's MemFree.
    """
    frees = [n.memory_free for n in node.topology.nodes.values()]
    if frees and None not in frees:
        return sum(frees)  # type: ignore[arg-type]
    return node.memory.free


# -- size -----------------------------------------------------------------------

@dataclass(frozen=True)
class Sizing:
    """Page counts that give an amount of memory, per node."""

    amount: int
    page_size: int
    pages: int
    per_node: Mapping[int | None, int]  #: kept as a FrozenDict, in the order the nodes fill
    spread: str
    notes: Sequence[str] = ()  #: kept as a tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "per_node", FrozenDict(self.per_node))
        object.__setattr__(self, "notes", tuple(self.notes))

    def to_data(self) -> dict:
        return {"amount": self.amount, "page_size": self.page_size, "pages": self.pages,
                "bytes": self.pages * self.page_size, "spread": self.spread,
                "per_node": [{"node": n, "pages": c, "bytes": c * self.page_size}
                             for n, c in self.per_node.items()],
                "notes": list(self.notes)}


def plan_size(node: NodeModel, amount: int, page_size: int, nodes: list[int] | None = None,
              spread: str = "even") -> Sizing:
    """Return the pool sizes giving ``amount`` bytes of ``page_size`` pages.

    ``even``: the same number of pages on every node (the remainder, one
    page each, on the first nodes listed).  ``local``: fill the nodes in the
    order given (``--numa 1,0``: node 1 first), each up
    to what its current pool plus its free memory holds, so the memory
    stays on as few nodes as possible.  Without NUMA nodes under the root
    the global pool is sized.  Counts are absolute pool sizes.
    """
    if spread not in ("even", "local"):
        raise UsageError(f"bad spread {spread!r}: expected even or local")
    if amount <= 0:
        raise UsageError("the amount must be more than 0")
    pages = -(-amount // page_size)
    notes = []
    if pages * page_size != amount:
        notes.append(f"{format_size(amount)} is not a whole number of {format_size(page_size)} pages: "
                     f"rounded up to {pages} pages ({format_size(pages * page_size)})")
    if not node.topology.nodes:
        if nodes:
            raise UsageError("this root has no NUMA nodes; drop --numa")
        return Sizing(amount, page_size, pages, {None: pages}, spread, notes)
    if nodes is None:
        nodes = memory_nodes(node)
        if not nodes:
            return Sizing(amount, page_size, pages, {None: pages}, spread,
                          notes + ["no NUMA node has a hugepage pool: the global pool is sized"])
    for nid in nodes:
        check_node(node, nid, page_size)
    per: dict[int | None, int] = {}
    if spread == "even":
        base, extra = divmod(pages, len(nodes))
        for i, nid in enumerate(nodes):
            per[nid] = base + (1 if i < extra else 0)
    else:
        left = pages
        for nid in nodes:
            pool = node_pool(node, page_size, nid)
            free = node.topology.nodes[nid].memory_free
            room = (pool.total if pool else 0) + (free // page_size if free is not None else left)
            take = min(left, room)
            per[nid] = take
            left -= take
        if left:
            per[nodes[0]] += left
            notes.append(f"the listed nodes' free memory holds {pages - left} of {pages} pages: "
                         f"the other {_pages(left)} go on node {nodes[0]}, the first listed")
    return Sizing(amount, page_size, pages, per, spread, notes)


# -- mount ----------------------------------------------------------------------

_OPTION_ORDER = ("pagesize", "size", "min_size", "nr_inodes", "uid", "gid", "mode")


@dataclass(frozen=True)
class MountRequest:
    """What a hugetlbfs mount should look like; sizes in bytes, already page-rounded."""

    path: str
    page_size: int
    size: int | None = None
    min_size: int | None = None
    nr_inodes: int | None = None
    uid: int | None = None
    gid: int | None = None
    mode: int | None = None

    def canonical(self) -> dict:
        """Return the options as the kernel keeps them (defaults filled in)."""
        return {"pagesize": self.page_size, "size": self.size, "min_size": self.min_size,
                "nr_inodes": self.nr_inodes, "uid": self.uid or 0, "gid": self.gid or 0,
                "mode": 0o755 if self.mode is None else self.mode}

    def options(self) -> str:
        """Return ``-o`` text: pagesize always; the rest only where not the kernel default."""
        c = self.canonical()
        out = [f"pagesize={kernel_size(self.page_size)}"]
        if c["size"] is not None:
            out.append(f"size={c['size']}")
        if c["min_size"] is not None:
            out.append(f"min_size={c['min_size']}")
        if c["nr_inodes"] is not None:
            out.append(f"nr_inodes={c['nr_inodes']}")
        if c["uid"]:
            out.append(f"uid={c['uid']}")
        if c["gid"]:
            out.append(f"gid={c['gid']}")
        if c["mode"] != 0o755:
            out.append(f"mode={c['mode']:o}")
        return ",".join(out)

    def fstab(self) -> str:
        """Return the matching ``/etc/fstab`` line (fstab(5): spaces escaped as \\040)."""
        path = self.path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")
        return f"hugetlbfs {path} hugetlbfs {self.options()} 0 0"

    def to_data(self) -> dict:
        return {"path": self.path, "page_size": self.page_size, "size": self.size,
                "min_size": self.min_size, "nr_inodes": self.nr_inodes, "uid": self.uid,
                "gid": self.gid, "mode": None if self.mode is None else f"{self.mode:o}",
                "options": self.options(), "fstab": self.fstab()}


def mount_path(text: str) -> str:
    """Return a normalised absolute mount path; UsageError for relative paths and ``/``."""
    if not text.startswith("/"):
        raise UsageError(f"mount path {text!r} must be absolute")
    path = os.path.normpath(text)
    if path == "/":
        raise UsageError("refusing to mount over /")
    why = path_problem(path)  # the one path rule (rmctl.names): no newline in /proc/mounts' fields
    if why is not None:
        raise UsageError(f"mount path {text!r} {why}")
    return path


def _pool_bytes(text: str, pool: HugepagePool, what: str) -> int:
    # A percentage is of the pool's persistent pages at mount time
    # (fs/hugetlbfs/inode.c hugetlbfs_size_to_hpages: h->max_huge_pages,
    # which is nr_hugepages less surplus pages): resolved here so the plan
    # says what will be mounted and compares with /proc/mounts.
    t = text.strip()
    if t.endswith("%"):
        try:
            pct = int(t[:-1])
        except ValueError:
            raise ParseError(f"bad {what} {text!r}: expected a size or a whole percentage") from None
        if pct < 0:
            raise ParseError(f"bad {what} {text!r}: negative")
        return max(0, pool.total - pool.surplus) * pool.page_size * pct // 100
    return parse_size(t, what=what)


def mount_request(node: NodeModel, path: str, page_size: int, *, size: str | None = None,
                  min_size: str | None = None, nr_inodes: str | None = None,
                  uid: int | None = None, gid: int | None = None, mode: str | None = None) -> MountRequest:
    """Return a validated MountRequest; sizes rounded down to whole pages as the kernel does."""
    pool = node_pool(node, page_size, None)
    if pool is None:
        raise UsageError(f"page size {format_size(page_size)} is not offered by this kernel")
    # the options are validated into this dict first; the MountRequest is made once, at the end
    opts: dict[str, int | None] = {}
    for name, text in (("size", size), ("min_size", min_size)):
        if text is None:
            continue
        raw = _pool_bytes(text, pool, name)
        rounded = raw // page_size * page_size
        if rounded == 0:
            hint = None
            if text.strip().endswith("%"):
                persistent = max(0, pool.total - pool.surplus)
                hint = (f"a percentage is of the pool's {_pages(persistent)} at mount time: grow the pool "
                        f"first (rmctl hugepages set {kernel_size(page_size)}=N) or give a size in bytes")
            raise UsageError(f"{name} {text} is less than one {format_size(page_size)} page", hint=hint)
        opts[name] = rounded
    size_b, min_b = opts.get("size"), opts.get("min_size")
    if size_b is not None and min_b is not None and min_b > size_b:
        raise UsageError(f"min_size ({format_size(min_b)}) is larger than size ({format_size(size_b)})")
    if nr_inodes is not None:
        n = parse_size(nr_inodes, what="nr_inodes")  # memparse: K/M/G are powers of 1024
        if n < 1:
            raise UsageError("nr_inodes must be at least 1")
        opts["nr_inodes"] = n
    for name, v in (("uid", uid), ("gid", gid)):
        if v is not None and v < 0:
            raise UsageError(f"bad {name} {v}: negative")
    opts.update(uid=uid, gid=gid)
    if mode is not None:
        try:
            m = int(mode, 8)
        except ValueError:
            raise ParseError(f"bad mode {mode!r}: expected octal, e.g. 1770") from None
        if not 0 <= m <= 0o7777:
            raise ParseError(f"bad mode {mode!r}: out of range")
        opts["mode"] = m & 0o1777  # the kernel keeps value & 01777 (hugetlbpage.rst)
    return MountRequest(path=mount_path(path), page_size=page_size, **opts)


def canonical_mount(options: dict[str, str], default_page: int | None) -> dict:
    """Return a /proc/mounts hugetlbfs option dict in MountRequest.canonical() form."""
    def size(k):
        v = options.get(k)
        try:
            return parse_size(v) if v else None
        except ParseError:
            return v

    def num(k, default):
        v = options.get(k)
        try:
            return int(v) if v else default
        except ValueError:
            return v

    mode = options.get("mode")
    mode_v: int | str | None
    try:
        mode_v = int(mode, 8) if mode else 0o755
    except ValueError:
        mode_v = mode
    return {"pagesize": size("pagesize") or default_page, "size": size("size"),
            "min_size": size("min_size"), "nr_inodes": num("nr_inodes", None),
            "uid": num("uid", 0), "gid": num("gid", 0), "mode": mode_v}


@dataclass(frozen=True)
class MountPlan:
    """The plan of a mount or umount, with what was found at the path."""

    plan: Plan
    request: MountRequest | None
    state: str  #: "absent" | "identical" | "mounted" (umount) | "not-mounted" (umount)
    existing: dict | None = None

    def to_data(self) -> dict:
        return {"plan": self.plan.to_data(), "state": self.state,
                "request": self.request.to_data() if self.request else None,
                "existing": self.existing}


def plan_mount(node: NodeModel, req: MountRequest, *, existing: tuple[str, str, dict] | None,
               dir_state: str) -> MountPlan:
    """Return the plan mounting hugetlbfs as ``req`` asks.

    ``existing``: (source, fstype, options) of the mount at the path now,
    or None.  ``dir_state``: "absent", "empty", "nonempty" or "notdir".
    An identical mount plans the same actions, which apply reports as
    unchanged; a different one is a ConflictError, as is a non-empty
    directory or a file at the path.
    """
    default_page = node.memory.hugepage_size
    if existing is not None:
        src, fstype, opts = existing
        if fstype != "hugetlbfs":
            raise ConflictError(f"{req.path} is already a {fstype} mount",
                                hint="choose another path")
        have = canonical_mount(opts, default_page)
        want = req.canonical()
        diff = [f"{k}={_show(have[k], k)} (asked {_show(want[k], k)})" for k in _OPTION_ORDER if have[k] != want[k]]
        if diff:
            raise ConflictError(f"{req.path} is a different hugetlbfs mount: " + ", ".join(diff),
                                hint=f"unmount it first (rmctl hugepages umount {req.path}) or choose another path",
                                details={"existing": opts})
        state = "identical"
    else:
        if dir_state == "notdir":
            raise ConflictError(f"{req.path} exists and is not a directory")
        if dir_state == "nonempty":
            raise ConflictError(f"{req.path} is a non-empty directory and not a hugetlbfs mount: "
                                "mounting would hide its files", hint="choose an empty or new directory")
        if req.min_size:
            pool = node_pool(node, req.page_size, None)
            want_pages = req.min_size // req.page_size
            avail = pool.free - (pool.reserved or 0) if pool else 0
            if want_pages > avail:
                raise UnsatisfiableError(
                    f"min_size {format_size(req.min_size)} needs {want_pages} free "
                    f"{format_size(req.page_size)} pages to reserve; the pool has {avail} "
                    "(free minus reserved): nothing was changed",
                    hint=f"grow the pool first: rmctl hugepages set {kernel_size(req.page_size)}="
                         f"{(pool.total if pool else 0) + want_pages - avail}")
        state = "absent"
    actions = [MakeDir(path=req.path), Mount(path=req.path, fstype="hugetlbfs", source="hugetlbfs",
                                             options=req.options())]
    notes = [f"{req.path} is already mounted with these options: apply reports unchanged"] \
        if state == "identical" else []
    plan = Plan(actions=actions, command="hugepages mount", fingerprint=fingerprint(node), notes=notes)
    return MountPlan(plan, req, state, None if existing is None else
                     {"source": existing[0], "fstype": existing[1], "options": existing[2]})


def _show(v, key: str = "") -> str:
    """Return an option value as /proc/mounts prints it (mode in octal; ``-``: not set)."""
    if v is None:
        return "-"
    if key == "mode" and isinstance(v, int):
        return f"{v:o}"
    if key == "pagesize" and isinstance(v, int):
        return kernel_size(v)
    return str(v)


def plan_umount(path: str, *, existing: tuple[str, str, dict] | None, rmdir: bool = False,
                node=None, dir_state: str | None = None) -> MountPlan:
    """Return the plan unmounting the hugetlbfs at ``path`` (and removing the directory if asked).

    Nothing mounted: no Unmount in the plan (a dry run shows nothing to
    do, as the run would do nothing); with ``rmdir`` the directory is
    still removed when ``dir_state`` says it is there and empty.  Another
    file system there: ConflictError (rmctl unmounts only hugetlbfs).
    """
    path = mount_path(path)
    if existing is not None and existing[1] != "hugetlbfs":
        raise ConflictError(f"{path} is a {existing[1]} mount, not hugetlbfs: rmctl leaves it alone")
    actions: list = [Unmount(path=path)] if existing is not None else []
    if rmdir and (existing is not None or dir_state in (None, "empty")):
        actions.append(RemoveDir(path=path))
    notes = [f"nothing is mounted at {path}"] if existing is None else []
    if existing is None and rmdir and dir_state in ("nonempty", "notdir"):
        notes.append(f"{path} is not an empty directory: it stays")
    plan = Plan(actions=actions, command="hugepages umount",
                fingerprint=fingerprint(node) if node is not None else None, notes=notes)
    return MountPlan(plan, None, "not-mounted" if existing is None else "mounted",
                     None if existing is None else
                     {"source": existing[0], "fstype": existing[1], "options": existing[2]})


# -- boot arguments -------------------------------------------------------------

_BOOT_KEYS = ("hugepagesz", "hugepages", "default_hugepagesz")


def parse_boot_hugepages(cmdline: str | None, default_page: int | None) -> tuple[dict[int, str], int | None]:
    """Return ({page size: hugepages value}, default_hugepagesz) from a kernel command line.

    ``hugepages=`` belongs to the ``hugepagesz=`` (or ``default_hugepagesz=``)
    before it, or to the default size when first (hugetlbpage.rst).
    Arguments after ``--`` belong to init and are ignored.
    """
    pools: dict[int, str] = {}
    default = None
    current = None
    for word in (cmdline or "").split():
        if word == "--":
            break
        k, _, v = word.partition("=")
        try:
            if k == "hugepagesz":
                current = parse_size(v)
            elif k == "default_hugepagesz":
                default = current = parse_size(v)
            elif k == "hugepages":
                size = current or default or default_page
                if size is not None:
                    pools[size] = v
                current = None
        except ParseError:
            continue
    return pools, default


def boot_words(pools: dict[int, str], default: int | None) -> list[str]:
    """Return the kernel arguments for ``pools`` ({size: count or N:c,...}), smallest size first."""
    words = []
    for size in sorted(pools):
        words += [f"hugepagesz={kernel_size(size)}", f"hugepages={pools[size]}"]
    if default is not None:
        words.append(f"default_hugepagesz={kernel_size(default)}")
    return words


@dataclass(frozen=True)
class BootPlan:
    """Kernel arguments for hugepages, the diff against the running command line, advice."""

    plan: Plan
    args: str
    current: str
    changes: Sequence[dict]  #: kept as a tuple
    recommendations: Sequence[str]  #: kept as a tuple

    def __post_init__(self) -> None:
        object.__setattr__(self, "changes", tuple(self.changes))
        object.__setattr__(self, "recommendations", tuple(self.recommendations))

    def to_data(self) -> dict:
        return {"args": self.args, "current": self.current, "changes": [dict(c) for c in self.changes],
                "unchanged": not any(c["change"] != "unchanged" for c in self.changes),
                "recommendations": list(self.recommendations), "plan": self.plan.to_data()}


def plan_boot_args(node: NodeModel, requests: list[tuple[int, int | dict[int, int]]], *,
                   per_node: bool = False, default_size: int | None = None,
                   obtainable: dict[int, int | None] | None = None,
                   gigantic_above: int | None = None) -> BootPlan:
    """Return the boot arguments giving ``requests`` ([(page size, pages or {node: pages})]).

    ``per_node`` splits a total evenly over the nodes with memory, in the
    kernel's node format ``hugepages=0:256,1:256`` (Linux 5.16+, the form
    hugetlbpage.rst documents).  Sizes not asked keep what the running
    command line says.  ``obtainable`` ({size: pages obtainable now}) feeds
    the advice to allocate gigantic pages at boot.
    """
    running, running_default = parse_boot_hugepages(node.cmdline, node.memory.hugepage_size)
    new: dict[int, str] = dict(running)
    totals: dict[int, int] = {}
    for size, count in requests:
        if size in totals:
            raise UsageError(f"{format_size(size)} pages asked twice")
        if isinstance(count, dict):
            for nid in count:
                check_node(node, nid, size)
            value = ",".join(f"{n}:{c}" for n, c in sorted(count.items()))
            totals[size] = sum(count.values())
        elif per_node and memory_nodes(node):
            nodes = memory_nodes(node)
            base, extra = divmod(count, len(nodes))
            value = ",".join(f"{n}:{base + (1 if i < extra else 0)}" for i, n in enumerate(nodes))
            totals[size] = count
        else:
            value = str(count)
            totals[size] = count
        new[size] = value
    default = default_size if default_size is not None else running_default
    changes = []
    for size in sorted(set(running) | set(new)):
        was, now = running.get(size), new.get(size)
        kind = "unchanged" if was == now else ("add" if was is None else "change")
        changes.append({"page_size": size, "was": was, "now": now, "change": kind})
    if default != running_default:
        changes.append({"page_size": default, "was": running_default and kernel_size(running_default),
                        "now": default and kernel_size(default), "change": "default"})
    words = boot_words(new, default)
    current_words = [w for w in (node.cmdline or "").split("--")[0].split()
                     if w.partition("=")[0] in _BOOT_KEYS]
    recs = []
    for size, total in sorted(totals.items()):
        pool = node_pool(node, size, None)
        have = pool.total if pool else 0
        more = (obtainable or {}).get(size)
        gigantic = gigantic_above is not None and size > gigantic_above
        if total > have and running.get(size) == new[size]:
            # Already on the running command line, yet the pool holds less:
            # boot-time allocation itself fell short (mm/hugetlb.c logs
            # "HugeTLB: allocating N of page size ... failed" then).
            recs.append(f"{format_size(size)}: the running kernel was booted asking for {total} pages and "
                        f"holds {have}: allocation at boot fell short (see dmesg | grep -i hugetlb); "
                        "ask for fewer, or free memory earlier in boot")
            continue
        if not gigantic:
            continue
        if total > have and (more is None or total > have + more):
            can = "" if more is None else f" and about {more} more could be had now"
            recs.append(f"{format_size(size)}: {total} pages asked; run-time allocation holds {have}{can}: "
                        f"allocate them at boot with these arguments (gigantic pages need "
                        f"{format_size(size)} of contiguous memory each, which is there only early in boot)")
        elif total > have:
            recs.append(f"{format_size(size)}: {total} pages asked, {have} allocated now; run time may "
                        f"reach it (rmctl hugepages set {kernel_size(size)}={total}), boot time is surer")
    notes = ["boot arguments take effect at the next boot; put them in the boot loader "
             "(GRUB_CMDLINE_LINUX, or grubby --update-kernel=ALL --args=...)"]
    if current_words and any(c["change"] != "unchanged" for c in changes):
        # hugepages= belongs to the hugepagesz= before it, so editing single
        # words (grubby --args replaces values key by key) can pair them wrongly.
        notes.append(f"replace every running hugepage argument ({' '.join(current_words)}) with the "
                     "new ones, in their order: each hugepages= applies to the hugepagesz= before it")
    plan = Plan(actions=[BootArgs(add=tuple(words), remove=tuple(w for w in current_words if w not in words))],
                command="hugepages boot-args", fingerprint=fingerprint(node), notes=notes)
    return BootPlan(plan=plan, args=" ".join(words), current=" ".join(current_words),
                    changes=changes, recommendations=recs)
