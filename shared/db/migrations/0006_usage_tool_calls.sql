-- Tool calls per turn, next to its tokens, for per-user accounting (`taskchat usage`).
ALTER TABLE turn_usage ADD COLUMN tool_calls integer NOT NULL DEFAULT 0;
-- The daily report reads one day range across all users.
CREATE INDEX turn_usage_created ON turn_usage (created_at);
