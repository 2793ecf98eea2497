"""Conversation transcripts, replayed through the real assistant on both stores: single-user ones
(tests/conversation/transcripts) and multi-user workflow ones (tests/workflow/transcripts). The format
is in tests/kit/transcripts.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.transcripts import run_transcript

HERE = Path(__file__).parent
FILES = sorted([*(HERE / "conversation" / "transcripts").glob("*.yaml"), *(HERE / "workflow" / "transcripts").glob("*.yaml")])


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.parent.name}-{p.stem}" for p in FILES])
def test_transcript(path: Path, store_url: str) -> None:
    run_transcript(path, store_url)
