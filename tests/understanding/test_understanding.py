"""Understanding: lexicon, pinyin repair, numbers, entities and the question set's accuracy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from eligibility.engine import Engine
from policy_kb.loader import default_kb
from understanding.entities import extract
from understanding.evaluation import evaluate, load_questions
from understanding.router import Understander

QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "questions.yaml"
TARGET = 0.95


DAY = dt.date(2026, 11, 22)


@pytest.fixture(scope="module")
def understander() -> Understander:
    kb = default_kb()
    return Understander(kb, Engine(kb))


@pytest.mark.parametrize("typo, term", [("低包户看病", "低保"), ("危防改造", "危房"), ("与露计划", "雨露"), ("医宝报销", "医保"),
                                        ("特捆人员", "特困"), ("交通补帖", "交通补贴"), ("检测户", "监测")])
def test_pinyin_typos_of_policy_terms_are_repaired(understander: Understander, typo: str, term: str) -> None:
    assert term in understander.lexicon.canonical(typo)


@pytest.mark.parametrize("text", ["找人帮忙", "种植果树", "老师能来吗", "兜底保障", "读研究生", "寄宿生活", "谁管这个"])
def test_correct_text_is_not_rewritten(understander: Understander, text: str) -> None:
    assert understander.lexicon.repair(text) == text


@pytest.mark.parametrize("said, canonical", [("娃儿", "子女"), ("屋头", "家里"), ("住读", "寄宿"), ("五保户", "特困"),
                                             ("路费", "交通补贴"), ("打工", "务工"), ("外省", "省外")])
def test_colloquial_words_map_to_policy_words(understander: Understander, said: str, canonical: str) -> None:
    assert canonical in understander.lexicon.canonical(f"我家{said}的事")


def test_at_least_150_synonyms(understander: Understander) -> None:
    assert len(understander.lexicon.synonyms) >= 150


@pytest.mark.parametrize("text, field, value", [("收入一万二", "income_per_head", 12000.0), ("一年六千五", "income_per_head", 6500.0)])
def test_chinese_amounts_are_read(text: str, field: str, value: float) -> None:
    assert extract(text.replace("一年", "收入")).household[field] == value


@pytest.mark.parametrize("text", ["自付占人均可支配收入的18%", "人均收入的1.5倍是多少", "人均收入降了三成"])
def test_a_share_is_not_an_income(text: str) -> None:
    assert "income_per_head" not in extract(text).household


@pytest.mark.parametrize("text", ["儿子在外面做生意一年挣几十万，不管我们", "我们县去年居民人均可支配收入3万多", "当地人均收入两万"])
def test_someone_elses_or_a_vague_income_is_not_the_familys(understander: Understander, text: str) -> None:
    assert "income_per_head" not in understander.extract(text).household


def test_ages_in_chinese_numerals() -> None:
    assert extract("孩子十七岁").member["age"] == 17


def test_household_size() -> None:
    assert extract("三口人").size == 3


def test_numbers_never_rewrite_the_matched_text(understander: Understander) -> None:
    assert "一次性" in understander.read("一次性交通补贴多少", "base", DAY).canonical


def test_stage_and_boarding(understander: Understander) -> None:
    member = understander.read("娃读初中住校", "base", DAY).entities.member
    assert (member["school_stage"], member["boarding"]) == ("初中", True)


def test_wanting_a_status_is_not_having_it() -> None:
    assert "monitored" not in extract("想当监测对象要啥条件").household


def test_question_set_accuracy_meets_target(understander: Understander) -> None:
    report = evaluate(understander, load_questions(QUESTIONS), DAY)
    misses = "\n".join(f"{q.text} → {got}（应为 {q.expect}）" for q, got in report.misses)
    assert report.accuracy >= TARGET, f"top-1 {report.accuracy:.1%}, baseline {report.baseline:.1%}\n{misses}"


def test_method_beats_the_plain_ratio_baseline(understander: Understander) -> None:
    report = evaluate(understander, load_questions(QUESTIONS), DAY)
    assert report.accuracy > report.baseline


@pytest.mark.parametrize("scores, answered", [((25.0, 12.0, 10.0), True), ((25.0, 20.0, 10.0), False), ((18.0, 5.0, 10.0), False),
                                             ((25.0, 12.0, 3.0), False)])
def test_a_weak_match_answers_only_when_nothing_else_comes_close(understander: Understander, scores: tuple, answered: bool) -> None:
    """Below the usual bar, one measure far ahead of the rest, sharing words with the question, is
    the answer; two alike, one too weak, or one only alike in form are not (the message gets the
    "答不了" help instead of a guess)."""
    from dataclasses import replace as copy

    from understanding.retrieval import Candidate

    docs = {d.id: d for d in understander.retriever.docs}
    read = understander.read("一句不相干的话", "base", DAY)
    read = copy(read, candidates=[Candidate(docs["other.compensation"], scores[0], scores[2]),
                                  Candidate(docs["other.land_house_transfer"], scores[1], scores[2])],
                passages=[])
    route = understander._answer_route(read, understander.engine.params("base", DAY))
    assert (route is not None and route.kind == "measure" and route.name == "other.compensation") is answered
