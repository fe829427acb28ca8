#!/bin/sh
# Creates the namespace and the search attributes Autopilot's workflows set. Idempotent: a second
# run, or one racing another, changes nothing and exits 0.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
attrs="DtEnvironmentId DtCustomer DtHost DtProblemId AutopilotPhase"
# A fresh server answers health checks before its namespaces; each wait is bounded so a broken
# server fails the deployment step instead of hanging it.
wait_for() {
  what=$1; shift
  tries=0
  until "$@" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge "${CREATE_NAMESPACE_WAIT_SECONDS:-120}" ]; then
      echo "create-namespace: $what did not happen within ${CREATE_NAMESPACE_WAIT_SECONDS:-120} s" >&2
      "$@" >&2 || true
      exit 1
    fi
    sleep 1
  done
}
wait_for "the Temporal server answering" temporal operator cluster health
if ! temporal operator namespace describe -n "$ns" >/dev/null 2>&1; then
  # Another run may create it between the describe and this create; describe decides.
  temporal operator namespace create -n "$ns" --retention 30d >/dev/null 2>&1 ||
    temporal operator namespace describe -n "$ns" >/dev/null
fi
# The namespace is registered, but the frontend knows it only once its namespace cache refreshes
# (about 2 s on a fresh server): until then every call naming it fails.
wait_for "namespace $ns answering" temporal operator search-attribute list -n "$ns"
missing_attrs() {
  existing=$(temporal operator search-attribute list -n "$ns")
  for attr in $attrs; do
    printf '%s\n' "$existing" | grep -q "^ *$attr " || printf '%s ' "$attr"
  done
}
for attr in $(missing_attrs); do
  temporal operator search-attribute create -n "$ns" --name "$attr" --type Keyword >/dev/null 2>&1 || true
done
# Search attributes, like namespaces, reach every frontend with a cache refresh.
all_registered() { [ -z "$(missing_attrs)" ]; }
wait_for "search attributes of $ns being registered" all_registered
echo "namespace $ns is ready"
