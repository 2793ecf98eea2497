-- Reminder subscriptions and the queue of reminders to send.

CREATE TABLE subscriptions (
    channel    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    topics     {json} NOT NULL,
    updated_at {ts} NOT NULL,
    PRIMARY KEY (channel, user_id)
);

-- pending -> sending (claimed by a worker until lease_until) -> sent | failed, or back to pending for a retry.
CREATE TABLE reminders (
    id          {id},
    channel     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     {json} NOT NULL,
    due_at      {ts} NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    dedupe_key  TEXT UNIQUE,
    worker      TEXT,
    lease_until {ts},
    sent_at     {ts}
);
CREATE INDEX reminders_state_due ON reminders (state, due_at);
CREATE INDEX reminders_user ON reminders (channel, user_id);
