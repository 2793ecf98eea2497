"""The understanding's data files and the fact model are checked on load; a mistake names the file,
the line and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.datafile import DataFileError
from policy_kb.facts import FACTS_FILE, parse_fact_model
from tests.kit.datafiles import broken, line_of
from understanding.household_parse import PERSONS_FILE, load_persons
from understanding.lexicon import LEXICON_FILE, load_lexicon


def test_a_canonical_word_that_is_also_a_variant(tmp_path: Path) -> None:
    """canonical() maps a second time for variants a first replacement made; a canonical word that is
    itself a variant would be moved again, so the file says so."""
    path = broken(tmp_path, LEXICON_FILE, "  没有: [没得, 冇得, 冇, 莫得, 木有, 冒得]", "  没有: [没得, 冇得, 冇, 莫得, 木有, 冒得, 有没有]")
    with pytest.raises(DataFileError) as caught:
        load_lexicon(path)
    assert "是标准词" in caught.value.reason and caught.value.file == str(path)
    assert caught.value.line == line_of(path, "  有没有: [")


def test_the_second_pass_reads_what_the_first_made() -> None:
    """冇得劳动力: 冇得 becomes 没有, and 没有劳动力 then becomes 无劳动能力."""
    assert "无劳动能力" in load_lexicon().canonical("也冇得劳动力")


def test_persons_nobody_may_not_be_empty(tmp_path: Path) -> None:
    path = broken(tmp_path, PERSONS_FILE, "nobody: [没有, 冇得, 没得, 冇有, 冇, 没, 无]", "nobody: []")
    load_persons.cache_clear()
    try:
        with pytest.raises(DataFileError) as caught:
            load_persons(path)
    finally:
        load_persons.cache_clear()
    assert "nobody" in caught.value.reason and caught.value.line == line_of(path, "nobody: []")


def test_say_not_names_a_value_of_the_fact(tmp_path: Path) -> None:
    path = broken(tmp_path, FACTS_FILE, "say_not: {无劳动能力: 有劳动能力}", "say_not: {没劳动能力: 有劳动能力}")
    with pytest.raises(DataFileError) as caught:
        parse_fact_model(path)
    assert "say_not" in caught.value.reason and caught.value.line == line_of(path, "say_not: {没劳动能力")
