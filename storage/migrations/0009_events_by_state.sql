-- The monthly report: the moves into a state within a month (附件1/2: 核实认定, 附件3: 解除).
CREATE INDEX application_events_state_at ON application_events (to_state, at);
