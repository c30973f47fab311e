-- Row-level security on every user-owned table, as defence in depth behind the WHERE user_id = ...
-- of each query. User-scoped transactions run as the role taskchat_app (SET LOCAL ROLE) with
-- taskchat.user_id set (set_config(..., true)); the policies let that role see and write only rows
-- of that user, so a query that forgets its WHERE still cannot reach another user's data.
-- Superusers and table owners bypass RLS, which is why the role switch is needed.

-- Roles are cluster-wide: another database on the same server (a test session, a second
-- deployment) may create it at the same moment. An administrator may also have created it (and
-- granted it to the app's user) so that the app's user needs no CREATEROLE.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'taskchat_app') THEN
        CREATE ROLE taskchat_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

-- The migrating user (the one the services connect as) must be allowed to SET ROLE to it.
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'taskchat_app', 'MEMBER') THEN
        EXECUTE format('GRANT taskchat_app TO %I', current_user);
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO taskchat_app;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON threads, thread_items, attachments, attachment_blobs, feedback, tasks, turn_usage
    TO taskchat_app;
-- Identity columns (tasks.id, thread_items.seq, turn_usage.id) draw from sequences.
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO taskchat_app;

-- current_setting(..., true) is NULL when unset, and NULL = anything is never true: a transaction
-- that did not set a user sees nothing.
ALTER TABLE threads ENABLE ROW LEVEL SECURITY;
CREATE POLICY threads_owner ON threads TO taskchat_app
    USING (user_id = current_setting('taskchat.user_id', true))
    WITH CHECK (user_id = current_setting('taskchat.user_id', true));

ALTER TABLE thread_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY thread_items_owner ON thread_items TO taskchat_app
    USING (user_id = current_setting('taskchat.user_id', true))
    WITH CHECK (user_id = current_setting('taskchat.user_id', true));

ALTER TABLE attachments ENABLE ROW LEVEL SECURITY;
CREATE POLICY attachments_owner ON attachments TO taskchat_app
    USING (user_id = current_setting('taskchat.user_id', true))
    WITH CHECK (user_id = current_setting('taskchat.user_id', true));

ALTER TABLE attachment_blobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY attachment_blobs_owner ON attachment_blobs TO taskchat_app
    USING (user_id = current_setting('taskchat.user_id', true))
    WITH CHECK (user_id = current_setting('taskchat.user_id', true));

ALTER TABLE feedback ENABLE ROW LEVEL SECURITY;
CREATE POLICY feedback_owner ON feedback TO taskchat_app
    USING (user_id = current_setting('taskchat.user_id', true))
    WITH CHECK (user_id = current_setting('taskchat.user_id', true));

ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tasks_owner ON tasks TO taskchat_app
    USING (user_id = current_setting('taskchat.user_id', true))
    WITH CHECK (user_id = current_setting('taskchat.user_id', true));

ALTER TABLE turn_usage ENABLE ROW LEVEL SECURITY;
CREATE POLICY turn_usage_owner ON turn_usage TO taskchat_app
    USING (user_id = current_setting('taskchat.user_id', true))
    WITH CHECK (user_id = current_setting('taskchat.user_id', true));
