"""The one-way layering of conventions.md, held by import-linter's contracts in
pyproject.toml: reports -> appeals -> agencies, never back."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dependencies_point_one_way():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _import_cycles() -> list[list[str]]:
    """Groups of modules that import one another, directly or round a circle, counting
    imports inside functions too (grimp reads every import statement)."""
    import grimp

    graph = grimp.build_graph("portal", "appeals", "agencies", "reports")
    modules = sorted(m for m in graph.modules if ".migrations" not in m)
    edges = {
        m: sorted(
            i
            for i in graph.find_modules_directly_imported_by(m)
            if i in graph.modules and ".migrations" not in i
        )
        for m in modules
    }
    # Tarjan's strongly connected components, iteratively.
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in modules:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if child < len(edges[node]):
                work.append((node, child + 1))
                nxt = edges[node][child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def test_no_two_modules_import_each_other():
    assert _import_cycles() == []
