-- Applications to be included in monitoring (申请纳入监测) and their audit trail.

CREATE TABLE applications (
    id                {id},
    number            TEXT UNIQUE,  -- SQ<year>-<id>, set right after the insert in the same transaction
    idem_key          TEXT NOT NULL UNIQUE,
    channel           TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    filled_by_channel TEXT,
    filled_by_user    TEXT,
    village           TEXT,
    region            TEXT,
    state             TEXT NOT NULL,
    data              {json} NOT NULL,
    created_at        {ts} NOT NULL,
    updated_at        {ts} NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    deadline          {ts}
);
CREATE INDEX applications_user ON applications (channel, user_id);
CREATE INDEX applications_village_state ON applications (village, state);
CREATE INDEX applications_state_deadline ON applications (state, deadline);

CREATE TABLE application_events (
    id         {id},
    number     TEXT NOT NULL REFERENCES applications (number),
    at         {ts} NOT NULL,
    actor      TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    note       TEXT NOT NULL
);
CREATE INDEX application_events_number ON application_events (number, id);
