"""Teams, reps, shared items with their share marks, and each rep's mutation log.

Row-level security (enabled and FORCED on every table) is the whole access model:

- ``team``, ``rep``: a rep reads its own team and its members; it may update only its own
  ``rep`` row (display name, last sync).
- ``item``: the shared rows. A rep reads, inserts and updates the rows of its own team,
  never deletes (deletes and withdrawals are tombstones without data, so they reach every
  client), never sees another team's rows. A tombstone carries no data (CHECK).
- ``item_share``: who shares which item, at which interaction level. Readable by the team;
  each rep inserts, changes and removes only its own marks.
- ``mutation``: each rep's log of applied mutation ids (so a replayed push never applies
  twice). Private: only its rep sees or changes it.

``relbook.team_of(role)`` (SECURITY DEFINER, owned by the NOLOGIN owner) maps a role to its
team for the policies; it answers only for the session's own role.
"""

VERSION = 1

SQL = r"""
CREATE TABLE relbook.team (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE relbook.rep (
    role_name name PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES relbook.team (id),
    display_name text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_sync_at timestamptz
);
CREATE INDEX rep_team ON relbook.rep (team_id);

CREATE FUNCTION relbook.team_of(who name) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.team_id FROM relbook.rep r
    WHERE r.role_name = who AND pg_catalog.pg_has_role(session_user, who, 'MEMBER')
$$;
REVOKE ALL ON FUNCTION relbook.team_of(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION relbook.team_of(name) TO __REPS__;

CREATE TABLE relbook.item (
    team_id uuid NOT NULL REFERENCES relbook.team (id),
    entity_type text NOT NULL CHECK (entity_type IN (
        'company', 'person', 'affiliation', 'pipeline', 'stage', 'deal',
        'interaction', 'note', 'feedback')),
    id uuid NOT NULL,
    version bigint NOT NULL CHECK (version > 0),
    -- How many times the row became live; share marks of older generations do not count.
    generation integer NOT NULL DEFAULT 1,
    state text NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'deleted', 'withdrawn')),
    data jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- For a deleted row: the version the deleting rep had seen.
    deleted_base bigint,
    created_by name NOT NULL DEFAULT current_user,
    updated_by name NOT NULL DEFAULT current_user,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- The writing transaction: pulls read changes after a snapshot's xmin (never a sequence).
    changed_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (team_id, entity_type, id),
    CONSTRAINT tombstones_carry_no_data CHECK (state = 'live' OR data = '{}'::jsonb)
);
CREATE INDEX item_changes ON relbook.item (team_id, changed_xid);

CREATE FUNCTION relbook.item_stamp() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    NEW.updated_at := now();
    NEW.updated_by := current_user;
    IF TG_OP = 'INSERT' THEN
        NEW.created_by := current_user;
        NEW.created_at := now();
    ELSE
        IF NEW.team_id <> OLD.team_id OR NEW.entity_type <> OLD.entity_type
           OR NEW.id <> OLD.id THEN
            RAISE EXCEPTION 'a shared item cannot change its team, type or id'
                USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.version <= OLD.version THEN
            RAISE EXCEPTION 'the version of a shared item must grow (% -> %)',
                OLD.version, NEW.version USING ERRCODE = 'check_violation';
        END IF;
        NEW.created_by := OLD.created_by;
        NEW.created_at := OLD.created_at;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER item_stamp BEFORE INSERT OR UPDATE ON relbook.item
    FOR EACH ROW EXECUTE FUNCTION relbook.item_stamp();

CREATE TABLE relbook.item_share (
    team_id uuid NOT NULL,
    entity_type text NOT NULL,
    id uuid NOT NULL,
    rep name NOT NULL DEFAULT current_user,
    generation integer NOT NULL,
    level text NOT NULL DEFAULT 'metadata'
        CHECK (level IN ('nothing', 'metadata', 'subject', 'full')),
    shared_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, entity_type, id, rep),
    FOREIGN KEY (team_id, entity_type, id) REFERENCES relbook.item (team_id, entity_type, id)
);

CREATE TABLE relbook.mutation (
    team_id uuid NOT NULL REFERENCES relbook.team (id),
    rep name NOT NULL DEFAULT current_user,
    mutation_id uuid NOT NULL,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    status text NOT NULL,
    version bigint NOT NULL DEFAULT 0,
    refused text[] NOT NULL DEFAULT '{}',
    replaced boolean NOT NULL DEFAULT false,
    direct boolean NOT NULL DEFAULT false,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, rep, mutation_id)
);

-- ------------------------------------------------------------------ row-level security
ALTER TABLE relbook.team ENABLE ROW LEVEL SECURITY;
ALTER TABLE relbook.team FORCE ROW LEVEL SECURITY;
ALTER TABLE relbook.rep ENABLE ROW LEVEL SECURITY;
ALTER TABLE relbook.rep FORCE ROW LEVEL SECURITY;
ALTER TABLE relbook.item ENABLE ROW LEVEL SECURITY;
ALTER TABLE relbook.item FORCE ROW LEVEL SECURITY;
ALTER TABLE relbook.item_share ENABLE ROW LEVEL SECURITY;
ALTER TABLE relbook.item_share FORCE ROW LEVEL SECURITY;
ALTER TABLE relbook.mutation ENABLE ROW LEVEL SECURITY;
ALTER TABLE relbook.mutation FORCE ROW LEVEL SECURITY;

-- team_of() runs as the owner, which FORCE subjects to RLS: it may read rep, nothing else.
CREATE POLICY owner_lookup ON relbook.rep FOR SELECT TO __OWNER__ USING (true);

CREATE POLICY team_read ON relbook.team FOR SELECT TO __REPS__
    USING (id = (SELECT relbook.team_of(current_user)));

CREATE POLICY rep_read ON relbook.rep FOR SELECT TO __REPS__
    USING (team_id = (SELECT relbook.team_of(current_user)));
CREATE POLICY rep_update_self ON relbook.rep FOR UPDATE TO __REPS__
    USING (role_name = current_user) WITH CHECK (role_name = current_user);

CREATE POLICY item_read ON relbook.item FOR SELECT TO __REPS__
    USING (team_id = (SELECT relbook.team_of(current_user)));
CREATE POLICY item_insert ON relbook.item FOR INSERT TO __REPS__
    WITH CHECK (team_id = (SELECT relbook.team_of(current_user)));
CREATE POLICY item_update ON relbook.item FOR UPDATE TO __REPS__
    USING (team_id = (SELECT relbook.team_of(current_user)))
    WITH CHECK (team_id = (SELECT relbook.team_of(current_user)));

CREATE POLICY share_read ON relbook.item_share FOR SELECT TO __REPS__
    USING (team_id = (SELECT relbook.team_of(current_user)));
CREATE POLICY share_insert_own ON relbook.item_share FOR INSERT TO __REPS__
    WITH CHECK (rep = current_user AND team_id = (SELECT relbook.team_of(current_user)));
CREATE POLICY share_update_own ON relbook.item_share FOR UPDATE TO __REPS__
    USING (rep = current_user AND team_id = (SELECT relbook.team_of(current_user)))
    WITH CHECK (rep = current_user AND team_id = (SELECT relbook.team_of(current_user)));
CREATE POLICY share_delete_own ON relbook.item_share FOR DELETE TO __REPS__
    USING (rep = current_user AND team_id = (SELECT relbook.team_of(current_user)));

CREATE POLICY mutation_own ON relbook.mutation FOR ALL TO __REPS__
    USING (rep = current_user AND team_id = (SELECT relbook.team_of(current_user)))
    WITH CHECK (rep = current_user AND team_id = (SELECT relbook.team_of(current_user)));

-- ------------------------------------------------------------------------------ grants
GRANT SELECT ON relbook.team TO __REPS__;
GRANT SELECT ON relbook.rep TO __REPS__;
GRANT UPDATE (display_name, last_sync_at) ON relbook.rep TO __REPS__;
GRANT SELECT, INSERT, UPDATE ON relbook.item TO __REPS__;
GRANT SELECT, INSERT, DELETE ON relbook.item_share TO __REPS__;
GRANT UPDATE (level, generation, shared_at) ON relbook.item_share TO __REPS__;
GRANT SELECT, INSERT, UPDATE, DELETE ON relbook.mutation TO __REPS__;
"""
