-- Conversation state, WeChat message de-duplication and small shared values with expiry.

CREATE TABLE sessions (
    channel    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    state      {json} NOT NULL,
    updated_at {ts} NOT NULL,
    PRIMARY KEY (channel, user_id)
);

-- One row per incoming message id: whoever inserts it handles the message; replies are kept for retries.
CREATE TABLE messages (
    key        TEXT PRIMARY KEY,
    claimed_at {ts} NOT NULL,
    replies    {json}
);
CREATE INDEX messages_claimed_at ON messages (claimed_at);

CREATE TABLE kv (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    expires_at {ts}
);

-- Leases (kv_lock): the row's owner holds the key until expires_at.
CREATE TABLE leases (
    key        TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at {ts} NOT NULL
);
