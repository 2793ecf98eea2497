-- A message claim is a lease (SqlStore.claim_message): `owner` (a store, i.e. a process) handles
-- the message until `lease_until`; if it dies before saving the reply, another process may take
-- the message over after that, and the first owner's late save then keeps nothing.
ALTER TABLE messages ADD COLUMN owner TEXT;
ALTER TABLE messages ADD COLUMN lease_until {ts};
-- Claims made before leases existed and never answered: their process is gone, they may be taken over.
UPDATE messages SET lease_until = claimed_at WHERE replies IS NULL;
