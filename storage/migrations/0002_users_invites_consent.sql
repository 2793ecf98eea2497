-- Who may do what (roles granted by one-time invite codes), and each user's consent and profile.

CREATE TABLE users (
    channel      TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('villager', 'cadre', 'township', 'county', 'admin')),
    region       TEXT,
    villages     {json} NOT NULL,
    display_name TEXT,
    created_at   {ts} NOT NULL,
    updated_at   {ts} NOT NULL,
    PRIMARY KEY (channel, user_id)
);
CREATE INDEX users_role_region ON users (role, region);

CREATE TABLE invites (
    code             TEXT PRIMARY KEY,
    role             TEXT NOT NULL CHECK (role IN ('villager', 'cadre', 'township', 'county', 'admin')),
    region           TEXT,
    villages         {json} NOT NULL,
    created_at       {ts} NOT NULL,
    expires_at       {ts},
    redeemed_at      {ts},
    redeemed_channel TEXT,
    redeemed_user    TEXT
);

CREATE TABLE consents (
    channel    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    granted    BOOLEAN NOT NULL,
    updated_at {ts} NOT NULL,
    PRIMARY KEY (channel, user_id)
);

CREATE TABLE profiles (
    channel    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    data       {json} NOT NULL,
    updated_at {ts} NOT NULL,
    PRIMARY KEY (channel, user_id)
);
