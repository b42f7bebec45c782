"""No-op custom actions with the example project's action names: the baseline action server of
``benchmarks/rasa_loops.py`` (Rasa's own turn cost with a custom action that does nothing but
say "ok"). Serve with ``python -m rasa_sdk --actions benchmarks.rasa_noop_actions``.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

NAMES = ("action_shopassist_respond", "action_shopassist_fallback", "action_order_status", "action_faq_answer",
         "action_product_answer", "action_recommend", "action_cancel_order", "action_change_address",
         "action_ask_order_id", "action_ask_return_reason", "action_ask_return_confirmed", "action_submit_return",
         "validate_return_form")


def _noop(action_name: str) -> type[Action]:
    def name(self: Action) -> str:
        return action_name

    async def run(self: Action, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if not action_name.startswith("validate_"):
            dispatcher.utter_message(text="ok")
        return []

    return type(f"Noop_{action_name}", (Action,), {"name": name, "run": run, "__module__": __name__})


for _name in NAMES:
    globals()[f"Noop_{_name}"] = _noop(_name)
