"""What a flow hook may use while handling one message: services, the user, region and date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dialogs.messages import ChannelLimits, Reply
from dialogs.render import measure_answer, merge_blocks
from eligibility.engine import AmountResult, expiry_warning
from eligibility.household import Household
from policy_kb.model import Measure, RegionView

if TYPE_CHECKING:
    from dialogs.assistant import Assistant


@dataclass(slots=True)
class Context:
    assistant: Assistant
    channel: str
    user: str
    limits: ChannelLimits
    region: str
    today: dt.date
    flow_state: dict = field(default_factory=dict)

    @property
    def engine(self):
        return self.assistant.engine

    @property
    def texts(self) -> dict[str, Any]:
        return self.assistant.texts

    @property
    def region_names(self) -> dict[str, str]:
        return self.assistant.region_names

    def canonical(self, text: str) -> str:
        return self.assistant.lexicon.canonical(text)

    def view(self) -> RegionView:
        return self.assistant.kb.view(self.region)

    def consent(self) -> bool | None:
        return self.assistant.store.get_consent(self.channel, self.user)

    def save_household(self, household: Household) -> None:
        self.assistant.store.save_profile(self.channel, self.user, {"household": household.to_mapping()})

    def pack(self, blocks: list[str]) -> list[Reply]:
        return merge_blocks(blocks, self.limits)

    def measure_amounts(self, measure: Measure, household: dict, member: dict) -> tuple[list[AmountResult], list[str]]:
        """Amount lines that apply given what the question said; and the facts that would decide the rest."""
        return self.assistant.measure_amounts(measure, self.region, self.today, household, member)

    def answer_text(self, measure: Measure, amounts: list[AmountResult]) -> str:
        expired = [*self.engine.measure_expired(measure, self.today), *(s for a in amounts for s in a.expired)]
        warnings = tuple(f"注意：{expiry_warning(self.assistant.kb.sources[s])}" for s in dict.fromkeys(expired))
        text = measure_answer(measure, amounts, self.assistant.kb, warnings, self.view().region.name)
        if "household.monitored" in measure.when.facts:
            text += "\n" + self.texts["audience_note"]
        return text + "\n" + self.texts["more_detail"]
