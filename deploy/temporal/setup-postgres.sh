#!/bin/sh
# Creates or migrates the Temporal schemas in PostgreSQL. Safe to run on every start.
# In the admin-tools image the defaults apply; `npm run cluster` points the same steps at the
# server it built from the Go module (TEMPORAL_SQL_TOOL, TEMPORAL_SCHEMA_DIR from that module).
set -eu
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
schema="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema}/postgresql/v12"
sql() { "$tool" --plugin postgres12 --ep "${POSTGRES_SEEDS:-postgresql}" -u "$POSTGRES_USER" -p "${DB_PORT:-5432}" "$@"; }
for db in temporal temporal_visibility; do
  case "$db" in temporal) dir=temporal ;; *) dir=visibility ;; esac
  if ! sql --db "$db" update-schema -d "$schema/$dir/versioned"; then
    sql --db "$db" create
    sql --db "$db" setup-schema -v 0.0
    sql --db "$db" update-schema -d "$schema/$dir/versioned"
  fi
done
# Autopilot's fleet database lives on the same server; its own migrations run when a worker starts.
sql --db autopilot create 2>/dev/null || true
echo 'Temporal schemas are up to date'
