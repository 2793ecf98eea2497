"""The composition root: the one place that builds the store, the knowledge base, the engine, the
clock, the skills and the channels, and connects them. Every `bot.py` command gets what it runs
from here, and imports only what that command uses (the console never imports a web server).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

from conversation.assistant import Assistant, load_texts
from conversation.context import Services
from conversation.skill import Skill
from conversation.skills import apply, confirm_proxy, household_check, my_data, policy_question, staff_login, subscribe, work
from eligibility.engine import Engine
from foundation.clock import Clock
from foundation.datafile import save_data_cache
from policy_kb.loader import default_kb
from policy_kb.model import KnowledgeBase
from storage.base import Store
from storage.open import open_store
from understanding.router import Understander
from workflow.desk import Desk

# Every skill the assistant has. Command readers are tried in this order: staff commands
# (invite codes, application numbers) first.
SKILLS: list[Skill] = [
    work.SKILL,
    staff_login.SKILL,
    confirm_proxy.SKILL,
    apply.SKILL,
    policy_question.SKILL,
    household_check.SKILL,
    my_data.SKILL,
    subscribe.SKILL,
]


def assistant(store: Store, kb: KnowledgeBase | None = None, region: str | None = None, clock: Clock | None = None) -> Assistant:
    """The conversation over `store`; rows are stamped with the same clock the conversation reads."""
    kb = kb or default_kb()
    clock = clock or Clock()
    store.clock = clock.now
    engine = Engine(kb)
    services = Services(kb=kb, engine=engine, understander=Understander(kb, engine), store=store, desk=Desk(store, kb, engine, clock),
                        clock=clock, texts=load_texts(), default_region=kb.resolve_region(region).id)
    core = Assistant(services, SKILLS)
    save_data_cache()  # the parsed data files, for the next start
    return core


def serve(build_adapters: Callable[[Assistant, Store, object], list], database_url: str | None, host: str, port: int) -> int:
    """What `bot.py wechat` and `bot.py telegram` run: store, assistant, adapters, server, until stopped."""
    import asyncio
    import logging

    import uvloop

    from channels.metrics import Metrics
    from channels.server import serve_forever

    # The core is CPU-bound Python run in worker threads; with the default 5 ms GIL switch
    # interval the event loop waits behind them for every socket call.
    sys.setswitchinterval(0.0005)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Telegram poll otherwise
    store = open_store(database_url)
    try:
        metrics = Metrics()
        core = assistant(store)
        core.warm_up()
        # Everything loaded so far lives as long as the process (knowledge base, dictionaries,
        # indexes): keep the garbage collector from walking it again on every full collection,
        # which otherwise stalls the loop for tens of milliseconds now and then.
        gc.freeze()
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(serve_forever(build_adapters(core, store, metrics), metrics, host, port))
    finally:
        store.close()
    return 0
