"""The conversation: understanding messages, dialog flows and rendering replies. Channel-neutral."""
