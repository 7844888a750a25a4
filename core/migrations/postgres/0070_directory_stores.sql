-- Directory identity stores (issue 18): an identity store may be an OpenLDAP directory
-- with the ppolicy overlay ('ldap') or Active Directory ('active_directory'), connected
-- through the `latchkey-directory` crate. The twin of the SQLite migration, which must
-- rebuild the table; PostgreSQL replaces the constraint.
ALTER TABLE identity_stores DROP CONSTRAINT identity_stores_kind_check;
ALTER TABLE identity_stores ADD CONSTRAINT identity_stores_kind_check
    CHECK (kind IN ('builtin', 'ldap', 'active_directory'));
