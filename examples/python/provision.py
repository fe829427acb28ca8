"""Onboard a customer's Dynatrace environment and enroll one host, as a CMDB job would.

    python provision.py --customer abc --stage p1 --host vm-17 --address 10.0.0.17 [--executor ssh]

Talks to Temporal directly with the official Python SDK; nothing of Autopilot's TypeScript is
needed. What it relies on is the contract in docs/contract/: the workflow types and ids, the JSON
inputs and results, the payload codec (autopilot_codec.py) and the failure types. Prints one JSON
document on success; a rejected input is one line on stderr and exit code 2.

Environment: TEMPORAL_ADDRESS (default 127.0.0.1:7233, `npm start`'s dev server), TEMPORAL_NAMESPACE
(default "default"), the SDK's other TEMPORAL_* connection variables (TLS, API key),
AUTOPILOT_CODEC_KEYS or AUTOPILOT_CODEC_KEYS_FILE (the same keys as the workers), and
AUTOPILOT_TASK_QUEUE (default dynatrace-autopilot).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.envconfig import ClientConfig
from temporalio.exceptions import ApplicationError

from autopilot_codec import data_converter, keys_from_environment


async def start(
    client: Client, workflow: str, workflow_id: str, arg: dict, **attributes: str
) -> WorkflowHandle:
    # The workflow id names the environment (or host): a retried, repeated or concurrent start
    # attaches to the run in progress instead of starting a second one.
    return await client.start_workflow(
        workflow,
        arg,
        id=workflow_id,
        task_queue=os.environ.get("AUTOPILOT_TASK_QUEUE", "dynatrace-autopilot"),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        # Plaintext (the codec does not cover search attributes): what `autopilot runs` and the
        # fleet page filter by, set at start so the run is found before its first workflow task.
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(SearchAttributeKey.for_keyword(k), v) for k, v in attributes.items()]
            + [SearchAttributePair(SearchAttributeKey.for_keyword("AutopilotPhase"), "Running")]
        ),
    )


async def outcome(handle: WorkflowHandle) -> dict:
    return {"workflowId": handle.id, "runId": handle.result_run_id, "result": await handle.result()}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customer", required=True)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument(
        "--executor", choices=["ssh", "local"], help="default: the worker's AUTOPILOT_HOST_EXECUTOR"
    )
    args = parser.parse_args()

    connect = ClientConfig.load_client_connect_config()
    connect.setdefault("target_host", "127.0.0.1:7233")
    connect.setdefault("namespace", "default")
    client = await Client.connect(**connect, data_converter=data_converter(keys_from_environment()))

    # The ids and inputs are docs/contract/README.md's. The workers validate the inputs, so a bad one
    # comes back as the run's non-retryable InvalidWorkflowInput failure.
    environment = f"{args.customer}-{args.stage}"
    onboarding = await start(
        client,
        "OnboardCustomer",
        f"onboard:{environment}",
        {"customer": args.customer, "stage": args.stage},
        DtEnvironmentId=environment,
        DtCustomer=args.customer,
    )
    # The enrollment waits for the onboarding by itself; both are started at once.
    host = {"hostname": args.host, "address": args.address, "customer": args.customer, "stage": args.stage}
    if args.executor:
        host["executor"] = args.executor
    enrollment = await start(
        client,
        "HostEnrollment",
        f"enroll:{environment}:{args.host.lower()}",
        {**host, "os": "linux"},
        DtEnvironmentId=environment,
        DtHost=args.host,
        DtCustomer=args.customer,
    )
    try:
        report = {"onboarding": await outcome(onboarding), "enrollment": await outcome(enrollment)}
    except WorkflowFailureError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == "InvalidWorkflowInput":
            print(f"provision: {cause.message}", file=sys.stderr)
            return 2
        print(f"provision: {err.cause or err}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    try:
        code = asyncio.run(main())
    except (ValueError, RuntimeError) as err:  # bad keys, Temporal unreachable: one line, not a traceback
        print(f"provision: {err}", file=sys.stderr)
        code = 1
    # The SDK's Rust threads can abort interpreter shutdown ("Fatal Python error: PyGILState_Release",
    # temporalio/sdk-python#300), turning a success into exit 134: leave without the teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
