#!/bin/sh
# Creates or migrates the Temporal schemas in PostgreSQL. Safe to run on every `docker compose up`.
set -eu
sql() { temporal-sql-tool --plugin postgres12 --ep postgresql -u "$POSTGRES_USER" -p 5432 "$@"; }
for db in temporal temporal_visibility; do
  case "$db" in temporal) dir=temporal ;; *) dir=visibility ;; esac
  if ! sql --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"; then
    sql --db "$db" create
    sql --db "$db" setup-schema -v 0.0
    sql --db "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$dir/versioned"
  fi
done
# Autopilot's fleet database lives on the same server; its own migrations run when a worker starts.
sql --db autopilot create 2>/dev/null || true
echo 'Temporal schemas are up to date'
