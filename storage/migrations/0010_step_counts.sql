-- 统计's median days per step: how many state changes of each kind took how long (to a hundredth
-- of a day), per region and village, kept up to date with the audit log in the same transaction.
CREATE TABLE step_counts (
    region     TEXT NOT NULL,
    village    TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    grain      INTEGER NOT NULL,  -- seconds since the application's previous event / 864, rounded
    n          INTEGER NOT NULL,
    PRIMARY KEY (region, village, from_state, to_state, grain)
);
INSERT INTO step_counts (region, village, from_state, to_state, grain, n)
SELECT region, village, from_state, to_state, grain, COUNT(*) FROM (
    SELECT COALESCE(a.region, '') AS region, COALESCE(a.village, '') AS village, e.from_state, e.to_state,
           CAST(ROUND((e.at - (SELECT p.at FROM application_events p WHERE p.number = e.number AND p.id < e.id ORDER BY p.id DESC LIMIT 1)) / 864) AS INTEGER) AS grain
    FROM application_events e JOIN applications a ON a.number = e.number
    WHERE e.from_state IS NOT NULL AND e.from_state <> e.to_state
) steps WHERE grain IS NOT NULL GROUP BY region, village, from_state, to_state, grain;
