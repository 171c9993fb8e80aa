#!/bin/bash
# Sourced once by the mysql image's entrypoint on an empty volume (docker_process_sql signs in as root through
# a temporary option file, so no password is on a command line). The same users and grants as the native
# stack: the app user gets rows of exactly one database, both users only from the compose network.
set -euo pipefail
sql_string() { printf "'%s'" "$(printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/''/g")"; }
for name in TRACKFLOW_MYSQL_DATABASE TRACKFLOW_MYSQL_USER TRACKFLOW_MYSQL_ADMIN_USER; do
  [[ "${!name}" =~ ^[a-z][a-z0-9_]{0,47}$ ]] || { echo "$name is not a valid identifier" >&2; exit 1; }
done
db_grant="${TRACKFLOW_MYSQL_DATABASE//_/\\_}"
net="${TRACKFLOW_COMPOSE_NET_HOSTS:-172.28.0.%}"
docker_process_sql <<SQL
CREATE DATABASE IF NOT EXISTS \`${TRACKFLOW_MYSQL_DATABASE}\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '${TRACKFLOW_MYSQL_ADMIN_USER}'@'${net}' IDENTIFIED BY $(sql_string "${TRACKFLOW_MYSQL_ADMIN_PASSWORD}");
CREATE USER IF NOT EXISTS '${TRACKFLOW_MYSQL_USER}'@'${net}' IDENTIFIED BY $(sql_string "${TRACKFLOW_MYSQL_PASSWORD}");
GRANT ALL PRIVILEGES ON \`${db_grant}\`.* TO '${TRACKFLOW_MYSQL_ADMIN_USER}'@'${net}' WITH GRANT OPTION;
GRANT SELECT, INSERT, UPDATE, DELETE ON \`${db_grant}\`.* TO '${TRACKFLOW_MYSQL_USER}'@'${net}';
FLUSH PRIVILEGES;
SQL
