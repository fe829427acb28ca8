#!/bin/sh
# Creates the namespace and the search attributes Autopilot's workflows set. Idempotent.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health >/dev/null 2>&1; do sleep 1; done
temporal operator namespace describe -n "$ns" >/dev/null 2>&1 || temporal operator namespace create -n "$ns" --retention 30d
for attr in DtEnvironmentId DtCustomer DtHost DtProblemId AutopilotPhase; do
  temporal operator search-attribute list -n "$ns" | grep -q "^ *$attr " ||
    temporal operator search-attribute create -n "$ns" --name "$attr" --type Keyword
done
echo "namespace $ns is ready"
