"""The THP mode is the kernel's [bracketed] choice; anything else in a snapshot is "unknown", never a crash."""

import pytest

from rmctl.discovery.memory import read_thp
from rmctl.discovery.root import Root


@pytest.mark.parametrize("text,want", [
    ("always [madvise] never\n", "madvise"), ("[always] madvise never\n", "always"),
    ("[", None), ("]", None), ("never] [", None), ("", None), ("always madvise never\n", None),
])
def test_thp_mode(tmp_path, text, want):
    d = tmp_path / "sys/kernel/mm/transparent_hugepage"
    d.mkdir(parents=True)
    (d / "enabled").write_text(text)
    (tmp_path / "sys/devices/system/cpu").mkdir(parents=True)
    assert read_thp(Root.open(str(tmp_path))) == want
