"""Every import points down the layers and nothing imports in a circle (scripts/import_graph.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
graph_tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(graph_tool)  # type: ignore[union-attr]


def test_the_house_imports_only_downwards() -> None:
    graph = graph_tool.collect()
    assert len(graph) > 50, "the script found too few modules to be looking at the project"
    assert graph_tool.violations(graph) == []
    assert graph_tool.cycles(graph) == []


def test_an_upward_import_and_a_circle_are_found() -> None:
    """The checks themselves: a policy_kb module importing the conversation, and two modules that
    import each other, are both reported."""
    graph = {"policy_kb.loader": {"conversation.assistant"}, "conversation.assistant": {"conversation.flow"},
             "conversation.flow": {"conversation.assistant"}}
    assert graph_tool.violations(graph) == [
        "policy_kb.loader → conversation.assistant: policy_kb (layer 1) may not import conversation (layer 6)"]
    assert graph_tool.cycles(graph) == [["conversation.assistant", "conversation.flow"]]


def test_packages_of_one_layer_do_not_import_each_other() -> None:
    assert graph_tool.violations({"storage.sql": {"policy_kb.model"}})
