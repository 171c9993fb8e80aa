#!/bin/bash
# One-shot (service cassandra-setup): the stack's superuser replaces the default one, which is then disabled;
# the app role (rows of the lake keyspace, granted by the migration) and the migration role (CREATE ON ALL
# KEYSPACES). Credentials go to cqlsh through a 0600 cqlshrc, never the command line.
set -euo pipefail
umask 077
export HOME=$(mktemp -d)
mkdir -p "$HOME/.cassandra"
cql_string() { printf "'%s'" "$(printf '%s' "$1" | sed -e "s/'/''/g")"; }
login() { printf '[authentication]\nusername = %s\npassword = %s\n[connection]\nhostname = cassandra\nport = 9042\n' "$1" "$2" > "$HOME/.cassandra/cqlshrc"; }
for name in TRACKFLOW_CASSANDRA_USERNAME TRACKFLOW_CASSANDRA_ADMIN_USERNAME; do
  [[ "${!name}" =~ ^[a-z][a-z0-9_]{0,47}$ ]] || { echo "$name is not a valid identifier" >&2; exit 1; }
done
login trackflow_root "$TRACKFLOW_CASSANDRA_SUPERUSER_PASSWORD"
if ! cqlsh -e 'SELECT release_version FROM system.local' >/dev/null 2>&1; then
  login cassandra cassandra
  if [ -n "${TRACKFLOW_CASSANDRA_AUTH_REPLICATION:-}" ]; then
    # A cluster: system_auth gets one replica per node, and reading the roles at ALL repairs them onto each.
    cqlsh -f /dev/stdin <<CQL
ALTER KEYSPACE system_auth WITH replication = ${TRACKFLOW_CASSANDRA_AUTH_REPLICATION};
CONSISTENCY ALL;
SELECT role FROM system_auth.roles;
CQL
  fi
  cqlsh -f /dev/stdin <<CQL
CREATE ROLE IF NOT EXISTS trackflow_root WITH SUPERUSER = true AND LOGIN = true AND PASSWORD = $(cql_string "$TRACKFLOW_CASSANDRA_SUPERUSER_PASSWORD");
CQL
  login trackflow_root "$TRACKFLOW_CASSANDRA_SUPERUSER_PASSWORD"
fi
cqlsh -f /dev/stdin <<CQL
CREATE ROLE IF NOT EXISTS ${TRACKFLOW_CASSANDRA_USERNAME} WITH LOGIN = true AND PASSWORD = $(cql_string "$TRACKFLOW_CASSANDRA_PASSWORD");
CREATE ROLE IF NOT EXISTS ${TRACKFLOW_CASSANDRA_ADMIN_USERNAME} WITH LOGIN = true AND PASSWORD = $(cql_string "$TRACKFLOW_CASSANDRA_ADMIN_PASSWORD");
GRANT CREATE ON ALL KEYSPACES TO ${TRACKFLOW_CASSANDRA_ADMIN_USERNAME};
ALTER ROLE cassandra WITH SUPERUSER = false AND LOGIN = false;
CQL
rm -rf "$HOME"
