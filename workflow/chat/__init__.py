"""The chat side of the workflow: flow hooks and command handlers, registered by dialogs/workflow_actions.py."""
