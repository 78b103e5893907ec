"""CPU time read from /proc, for the benches that load a server running in other processes:
how much of the machine the server, the database and the load generator each took."""

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process: pid → (parent pid, command name, user + system CPU seconds)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue
        fields = tail.split()
        name = head.split("(", 1)[1]
        out[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / TICK)
    return out


def process_tree_cpu(root_pid: int) -> float:
    """User + system CPU seconds of root_pid and every process below it (gunicorn's workers)."""
    processes = _processes()
    total, todo = 0.0, [root_pid]
    while todo:
        pid = todo.pop()
        total += processes.get(pid, (0, "", 0.0))[2]
        todo.extend(child for child, (parent, _, _) in processes.items() if parent == pid)
    return total


def named_cpu(name: str) -> float:
    """User + system CPU seconds of every process called `name` (PostgreSQL's are "postgres").
    A backend that exits during a phase takes its seconds with it: the figure is a floor."""
    return sum(cpu for _, command, cpu in _processes().values() if command == name)
