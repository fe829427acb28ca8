import { describe, expect, it } from 'vitest';
import { ENROLL_FLEET, HOST_ENROLLMENT } from '../../src/shared/enrollment.js';
import { ADOPT_ENVIRONMENTS, REGISTRY_REQUEST } from '../../src/shared/environments.js';
import { FLEET_SCAN } from '../../src/shared/fleet-scan.js';
import { FLEET_MAINTENANCE } from '../../src/shared/maintenance.js';
import { ONBOARD_CUSTOMER } from '../../src/shared/onboarding.js';
import { ROUTE_PROBLEM_NOTIFICATION } from '../../src/shared/problem-routing.js';
import { REMEDIATE_CPU_SATURATION } from '../../src/shared/remediation.js';
import { STANDARDS_APPLY, STANDARDS_DRIFT, STANDARDS_PLAN, STANDARDS_REQUEST } from '../../src/shared/standards.js';
import { WORKER_SELF_CHECK } from '../../src/shared/worker-self-check.js';
import * as workflows from '../../src/workflows/index.js';

describe('workflow type names', () => {
  // Clients start and list workflows by these names; the worker registers the functions by theirs.
  it('name exactly the workflows the worker registers, one constant each', () => {
    const constants = [
      WORKER_SELF_CHECK,
      ONBOARD_CUSTOMER,
      HOST_ENROLLMENT,
      ENROLL_FLEET,
      REMEDIATE_CPU_SATURATION,
      ROUTE_PROBLEM_NOTIFICATION,
      FLEET_MAINTENANCE,
      ADOPT_ENVIRONMENTS,
      REGISTRY_REQUEST,
      FLEET_SCAN,
      STANDARDS_PLAN,
      STANDARDS_APPLY,
      STANDARDS_DRIFT,
      STANDARDS_REQUEST,
    ];
    const registered = Object.entries(workflows).map(([exported, fn]) => {
      // The type Temporal records is the function's own name, not the name it is exported under.
      expect(fn.name).toBe(exported);
      return fn.name;
    });
    expect([...constants].sort()).toEqual([...registered].sort());
  });
});
