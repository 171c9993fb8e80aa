#!/bin/bash
# Cassandra with PasswordAuthenticator and CassandraAuthorizer (the image ships AllowAll); JMX stays on the
# container's loopback (the image's LOCAL_JMX default) and is not published.
set -euo pipefail
conf=/etc/cassandra/cassandra.yaml
sed -i -E \
  -e 's/^authenticator:.*/authenticator: PasswordAuthenticator/' \
  -e 's/^authorizer:.*/authorizer: CassandraAuthorizer/' \
  -e 's/^role_manager:.*/role_manager: CassandraRoleManager/' "$conf"
grep -q '^authenticator: PasswordAuthenticator' "$conf" || echo 'authenticator: PasswordAuthenticator' >> "$conf"
grep -q '^authorizer: CassandraAuthorizer' "$conf" || echo 'authorizer: CassandraAuthorizer' >> "$conf"
exec docker-entrypoint.sh cassandra -f
