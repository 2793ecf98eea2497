-- When a session's contents may be deleted: a draft or a description left unfinished is not kept
-- for ever (conversation/session.py sets it; the store deletes the rows once it has passed).
ALTER TABLE sessions ADD COLUMN expires_at {ts};
CREATE INDEX sessions_expires_at ON sessions (expires_at);
