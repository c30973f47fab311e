-- Row-level security that does not depend on the code remembering its scope.
--
-- Until now the policies applied to taskchat_app only, which user-scoped transactions switch to;
-- the services connect as the tables' owner, and the owner bypasses row-level security: a query
-- run outside a user scope saw every user's rows. From here on:
-- * the policies apply to every role (PUBLIC), and FORCE makes them apply to the owner too, so a
--   query outside any scope sees nothing, whichever role the services connect as (superusers and
--   BYPASSRLS roles excepted: never run the services as one);
-- * the services may connect as a role that owns nothing (DATABASE_URL), a member of taskchat_app,
--   while migrations run as the owner (MIGRATION_DATABASE_URL; see docs/deployment-postgres.md);
-- * the few transactions that are across users by design (turn housekeeping, operator reports,
--   migrations) say so with taskchat.all_users = 'on', transaction-local like the user scope.
DO $$
DECLARE
    tbl text;
    scoped constant text :=
        '(user_id = current_setting(''taskchat.user_id'', true)'
        ' OR current_setting(''taskchat.all_users'', true) = ''on'')';
BEGIN
    FOREACH tbl IN ARRAY ARRAY[
        'threads', 'thread_items', 'attachments', 'attachment_blobs', 'feedback', 'tasks',
        'turn_usage', 'turns'
    ] LOOP
        EXECUTE format('DROP POLICY IF EXISTS %I ON %I', tbl || '_owner', tbl);
        EXECUTE format(
            'CREATE POLICY %I ON %I USING %s WITH CHECK %s', tbl || '_scoped', tbl, scoped, scoped
        );
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tbl);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', tbl);
    END LOOP;
END
$$;
