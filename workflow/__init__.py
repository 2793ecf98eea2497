"""The application workflow (申请纳入监测): states, roles, deadlines, audit, reports and privacy.

Plain Python over the Store; the chat side lives in `dialogs/workflow_actions.py` and the
modules it imports from here, so the same rules hold for the chat, the admin CLI and the scheduler.
"""
