-- Exactly-once reminder delivery (reminders/scheduler.py explains the protocol):
-- `attempt` is set, and committed, just before a push goes to the channel (begin_delivery); a row
-- in 'sending' with an attempt whose lease ran out is a push that may or may not have gone out.
-- `message_id` is the channel's id of the delivered push, written with state = 'sent' in one step.
-- `outcome` says why a 'failed' row failed: 'unknown' (its worker died mid-push; not resent),
-- 'gave_up' (unreachable too often) or 'stale' (no longer worth sending).
ALTER TABLE reminders ADD COLUMN attempt TEXT;
ALTER TABLE reminders ADD COLUMN attempted_at {ts};
ALTER TABLE reminders ADD COLUMN message_id TEXT;
ALTER TABLE reminders ADD COLUMN outcome TEXT;
