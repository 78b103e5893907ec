#!/usr/bin/env bash
# Proves a backup restores: `make backup` of a database with demo data, `make restore` of that file
# into an empty database, then every table must hold the same number of rows, and the audit
# trail's append-only trigger must be back (docs/operations.md). Run by CI against 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER="${BACKUP_CHECK_SERVER:-postgres://postgres@127.0.0.1:5432}"
BASE="${BACKUP_CHECK_DB:-homeward_backup_check}"
SOURCE="$SERVER/${BASE}_source"
RESTORED="$SERVER/${BASE}_restored"
PY="${PYTHON:-.venv/bin/python}"
WORK="$(mktemp -d)"

psql_admin() { psql "$SERVER/postgres" -v ON_ERROR_STOP=1 -qAtc "$1"; }
cleanup() {
  rm -rf "$WORK"
  psql_admin "DROP DATABASE IF EXISTS ${BASE}_source" || true
  psql_admin "DROP DATABASE IF EXISTS ${BASE}_restored" || true
}
trap cleanup EXIT

# Every table of the public schema with its exact row count, one "table|rows" per line.
COUNT_ROWS="
SELECT table_name || '|' || (xpath('/row/n/text()', query_to_xml(
         format('SELECT count(*) AS n FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text
FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
ORDER BY table_name;"

cleanup
psql_admin "CREATE DATABASE ${BASE}_source"
psql_admin "CREATE DATABASE ${BASE}_restored"

echo "-- a database with the demo data"
HOMEWARD_DEV=true DATABASE_URL="$SOURCE" "$PY" manage.py migrate --no-input -v 0
HOMEWARD_DEV=true DATABASE_URL="$SOURCE" "$PY" manage.py seed_demo >/dev/null

echo "-- make backup"
make --no-print-directory backup BACKUP_DB="$SOURCE" BACKUP_DIR="$WORK"
FILE="$(ls "$WORK"/homeward-*.dump)"
test "$(stat -c %a "$FILE")" = "600" || { echo "the backup file must be readable by its owner only"; exit 1; }

echo "-- make restore into an empty database"
make --no-print-directory restore BACKUP_DB="$RESTORED" FILE="$FILE"

psql "$SOURCE" -v ON_ERROR_STOP=1 -qAtc "$COUNT_ROWS" >"$WORK/source.txt"
psql "$RESTORED" -v ON_ERROR_STOP=1 -qAtc "$COUNT_ROWS" >"$WORK/restored.txt"
if ! diff -u "$WORK/source.txt" "$WORK/restored.txt"; then
  echo "FAIL: the restored database differs from the one backed up (table|rows above)"
  exit 1
fi
tables=$(wc -l <"$WORK/source.txt")
rows=$(awk -F'|' '{ s += $2 } END { print s }' "$WORK/source.txt")
test "$rows" -gt 0 || { echo "FAIL: the source database was empty"; exit 1; }
triggers=$(psql "$RESTORED" -qAtc \
  "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_auditevent_append_only'")
test "$triggers" = "1" || { echo "FAIL: the audit trail's append-only trigger was not restored"; exit 1; }
echo "Backup and restore: $tables tables, $rows rows, identical after restore; audit trigger restored."
