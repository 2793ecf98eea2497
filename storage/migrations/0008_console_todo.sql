-- The web console's 待办: applications of a region in the states a role acts on, by deadline.
CREATE INDEX applications_console_todo ON applications (region, state, deadline, id);
