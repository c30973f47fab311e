-- Optional due date and priority on tasks ("remind me to pay rent on Friday, high priority").
-- A due date is a calendar day, not an instant: "Friday" has no time zone of its own.
ALTER TABLE tasks
    ADD COLUMN due_date date NULL,
    ADD COLUMN priority text NULL CHECK (priority IN ('low', 'medium', 'high'));
