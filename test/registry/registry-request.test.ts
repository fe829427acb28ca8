import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../src/activities/index.js';
import { collect } from '../../src/dynatrace/pagination.js';
import { parseFleetPath } from '../../src/fleet/fleet-path.js';
import { queryFleet, type FleetAnswer } from '../../src/fleet/fleet-query.js';
import { managedEnvironmentUrl } from '../../src/dynatrace/environment-url.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import {
  REGISTRY_REQUEST,
  type EnvironmentToAdd,
  type RegistryRequestInput,
  type RegistryRequestResult,
} from '../../src/shared/environments.js';
import { FailureType } from '../../src/shared/failure-types.js';
import { TOKEN_PURPOSES } from '../../src/shared/registry.js';
import { startTestbed, testActivityDeps, type Testbed } from '../helpers/autopilot.js';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import { startTestSaasEnvironment, type TestSaasEnvironment } from '../helpers/simulator.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

const REGISTRATION_SCOPES = [...TOKEN_PURPOSES.automation, 'apiTokens.read'];
/** Dynatrace's SaaS domain, and `localhost` for the SaaS simulator at `<id>.localhost`. */
const SAAS_DOMAINS = ['live.dynatrace.com', 'localhost'];

/**
 * `RegistryRequest` started by a holder of the codec key (the testbed's client seals every payload):
 * the worker takes no secret reference but one `environments add` staged, sends a token nowhere but
 * to a configured cluster or a SaaS host below a configured domain (over https outside the sandbox),
 * and re-registers an id only when told to replace it. Every refusal is checked against a real
 * capture server that must receive nothing and against the secret store and registry that must not
 * change.
 */
describe('RegistryRequest: no input chooses a secret or where it goes', () => {
  const secretKey = randomBytes(32);
  let tb: Testbed;
  let capture: CaptureServer;
  /** The capture server's port, for URLs that name it by a host of a configured domain. */
  let capturePort: string;
  let saas: TestSaasEnvironment;
  /** The same registry and secret store, as a production worker has them: no plain http. */
  let production: ActivityDeps;
  const victimRef = secretRefs.environmentToken('victim-p1', 'automation');
  let victimToken: string;

  beforeAll(async () => {
    tb = await startTestbed({ secretKey, saasDomains: SAAS_DOMAINS });
    production = testActivityDeps({
      dt: tb.dt,
      dir: tb.dir,
      registry: tb.registry,
      secretKey,
      sandbox: false,
      saasDomains: SAAS_DOMAINS,
    });
    capture = await startCaptureServer();
    capturePort = new URL(capture.url).port;
    saas = await startTestSaasEnvironment({ environmentId: 'abc12345' });
    // Another customer's environment, served by Autopilot with a token it minted.
    const { token } = await tb.dt.environment('victim-p1');
    victimToken = token;
    await tb.registry.record({
      id: 'victim-p1',
      kind: 'managed',
      cluster: 'default',
      apiUrl: managedEnvironmentUrl(tb.dt.simulator.url, 'victim-p1'),
      source: 'adopted',
    });
    await tb.deps.secrets.put(victimRef, token, { tokenId: 'dt0c01.VICTIM' });
    await tb.registry.tokenMinted({
      environmentId: 'victim-p1',
      purpose: 'automation',
      tokenId: 'dt0c01.VICTIM',
      secretRef: victimRef,
      scopes: [...TOKEN_PURPOSES.automation],
      mintedByUs: true,
      reason: 'test',
      replacedRevokeAfter: new Date(),
    });
  }, 120_000);
  afterAll(async () => {
    await saas?.stop();
    await capture?.close();
    await tb?.teardown();
  });

  /** A token staged as `autopilot environments add` stages it. */
  const stage = async (value: string) => {
    const ref = secretRefs.registrationStaging();
    await tb.deps.secrets.put(ref, value, { kind: 'registration' });
    return ref;
  };

  /** One RegistryRequest on a worker with `deps` (the sandbox's by default): its result, or the reason it failed. */
  const ask = async (
    input: RegistryRequestInput,
    deps: ActivityDeps = tb.deps,
  ): Promise<RegistryRequestResult | ApplicationFailure> => {
    const worker = await tb.worker(deps);
    return worker.runUntil(
      tb.env.client.workflow
        .execute(REGISTRY_REQUEST, {
          taskQueue: tb.taskQueue,
          workflowId: uniqueTaskQueue('registry-request'),
          args: [input],
        })
        .then(
          (result) => result as RegistryRequestResult,
          (err: unknown) => {
            let cause: unknown = err;
            while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
            if (cause instanceof ApplicationFailure) return cause;
            throw err;
          },
        ),
    );
  };
  const add = (environment: EnvironmentToAdd, deps?: ActivityDeps) => ask({ op: 'add', environment }, deps);

  const refused = (outcome: RegistryRequestResult | ApplicationFailure, type: string, reason: string | RegExp) => {
    expect(outcome).toBeInstanceOf(ApplicationFailure);
    const failure = outcome as ApplicationFailure;
    expect({ type: failure.type, nonRetryable: failure.nonRetryable }).toEqual({ type, nonRetryable: true });
    expect(failure.message).toMatch(reason);
    expect(failure.message).not.toContain(victimToken);
  };

  it("the attack: another environment's token and a capture server's URL, sealed — refused, nothing sent, nothing deleted", async () => {
    for (const deps of [tb.deps, production]) {
      for (const stagedSecretRef of [victimRef, 'dynatrace/victim-p1/token-management', 'staging/registry/../../x']) {
        const outcome = await add({ id: 'x', apiUrl: capture.url, kind: 'saas', stagedSecretRef }, deps);
        refused(
          outcome,
          FailureType.SecretReferenceRefused,
          /takes only a token that `autopilot environments add` staged/,
        );
        expect((outcome as ApplicationFailure).message).toContain('neither read nor deleted');
      }
    }
    expect(capture.requests).toEqual([]);
    expect((await tb.deps.secrets.get(victimRef))?.value).toBe(victimToken);
    expect(await tb.registry.get('x')).toBeUndefined();
  });

  it('a staged token goes to no URL but a configured cluster or a SaaS host below a configured domain', async () => {
    const attempts: [string, EnvironmentToAdd, ActivityDeps, string, RegExp][] = [
      [
        'a capture server as SaaS, in the sandbox',
        { id: 'x', apiUrl: capture.url, kind: 'saas', stagedSecretRef: '' },
        tb.deps,
        FailureType.EnvironmentUrlRefused,
        /"http:\/\/127\.0\.0\.1:\d+" names no environment/,
      ],
      [
        'a capture server below a configured domain, over plain http, outside the sandbox',
        { id: 'x', apiUrl: `http://x.localhost:${capturePort}`, kind: 'saas', stagedSecretRef: '' },
        production,
        FailureType.EnvironmentUrlRefused,
        /http:\/\/x\.localhost:\d+ is plain http: tokens go to SaaS environments over https only/,
      ],
      [
        'a capture server off the domain list',
        { id: 'x', apiUrl: 'https://x.live.dynatrace.com.evil.example', kind: 'saas', stagedSecretRef: '' },
        production,
        FailureType.EnvironmentUrlRefused,
        /x\.live\.dynatrace\.com\.evil\.example is not a SaaS environment's host/,
      ],
      [
        'a SaaS URL of another environment',
        { id: 'x', apiUrl: 'https://victim.live.dynatrace.com/api/v2', kind: 'saas', stagedSecretRef: '' },
        production,
        FailureType.EnvironmentUrlRefused,
        /--id x is not the environment of https:\/\/victim\.live\.dynatrace\.com: its URL names victim/,
      ],
      [
        'a Managed environment on a capture server',
        { id: 'x', apiUrl: `${capture.url}/e/x`, kind: 'managed', stagedSecretRef: '' },
        tb.deps,
        FailureType.EnvironmentUrlRefused,
        /http:\/\/127\.0\.0\.1:\d+ is the URL of no configured cluster \(configured: default http:\/\/127\.0\.0\.1:\d+\)/,
      ],
      [
        'a Managed environment of the cluster, at a capture server',
        {
          id: 'x',
          apiUrl: `http://x.localhost:${capturePort}/e/x/api`,
          kind: 'managed',
          cluster: 'default',
          stagedSecretRef: '',
        },
        production,
        FailureType.EnvironmentUrlRefused,
        /http:\/\/x\.localhost:\d+\/e\/x is not x on cluster default: a Managed environment's URL is its cluster's plus \/e\/<id>/,
      ],
      [
        'a cluster that is not configured',
        { id: 'x', kind: 'managed', cluster: 'elsewhere', stagedSecretRef: '' },
        production,
        FailureType.UnknownCluster,
        /no cluster named elsewhere \(configured: default\)/,
      ],
    ];
    for (const [what, environment, deps, type, reason] of attempts) {
      const stagedSecretRef = await stage(await saas.token(REGISTRATION_SCOPES));
      const outcome = await add({ ...environment, stagedSecretRef }, deps);
      expect.soft(outcome, what).toBeInstanceOf(ApplicationFailure);
      refused(outcome, type, reason);
      // A staged token is the registration's to delete, refused or not.
      expect(await tb.deps.secrets.get(stagedSecretRef)).toBeUndefined();
    }
    expect(capture.requests).toEqual([]);
    expect(await tb.registry.get('x')).toBeUndefined();
  });

  it('an add of a registered id is refused without replace, and the record stays as it was', async () => {
    const before = await tb.registry.get('victim-p1');
    const { token } = await tb.dt.environment('victim2-p1');
    const calls = async () => JSON.stringify((await tb.dt.stats()).requests);
    const callsBefore = await calls();
    for (const environment of [
      { id: 'victim-p1', kind: 'managed' as const },
      { id: 'victim-p1', kind: 'saas' as const, apiUrl: `https://victim-p1.live.dynatrace.com` },
    ]) {
      const stagedSecretRef = await stage(token);
      refused(
        await add({ ...environment, stagedSecretRef }, production),
        FailureType.EnvironmentAlreadyRegistered,
        /^victim-p1 is registered already \(managed, http:\/\/127\.0\.0\.1:\d+\/e\/victim-p1, adopted\); nothing changed/,
      );
    }
    expect(await tb.registry.get('victim-p1')).toEqual(before);
    expect((await tb.deps.secrets.get(victimRef))?.value).toBe(victimToken);
    // Refused before the token was read: not even a lookup reached the cluster.
    expect(await calls()).toBe(callsBefore);
  });

  it("registers a Managed environment at its cluster's URL, from no URL or a pasted one", async () => {
    const { token } = await tb.dt.environment('hand-p1', [...REGISTRATION_SCOPES]);
    const first = await add({ id: 'hand-p1', kind: 'managed', stagedSecretRef: await stage(token) }, production);
    const url = managedEnvironmentUrl(tb.dt.simulator.url, 'hand-p1');
    expect(first).toMatchObject({
      op: 'add',
      environment: { id: 'hand-p1', kind: 'managed', cluster: 'default', apiUrl: url, source: 'registered' },
    });
    const again = await add(
      {
        id: 'hand-p1',
        kind: 'managed',
        apiUrl: `${url}/api/v2/`,
        replace: true,
        stagedSecretRef: await stage(token),
      },
      production,
    );
    expect(again).toMatchObject({ op: 'add', environment: { id: 'hand-p1', cluster: 'default', apiUrl: url } });
  });

  it('re-points a SaaS environment only with replace, which replaces its record', async () => {
    const first = await add({
      id: 'abc12345',
      kind: 'saas',
      apiUrl: `${saas.url}/api/v2`,
      stagedSecretRef: await stage(await saas.token(REGISTRATION_SCOPES)),
    });
    expect(first).toMatchObject({ op: 'add', environment: { id: 'abc12345', kind: 'saas', apiUrl: saas.url } });
    const registered = await tb.registry.get('abc12345');
    const moved = await startTestSaasEnvironment({ environmentId: 'abc12345' });
    try {
      const movedToken = await moved.token(REGISTRATION_SCOPES);
      refused(
        await add({ id: 'abc12345', kind: 'saas', apiUrl: moved.url, stagedSecretRef: await stage(movedToken) }),
        FailureType.EnvironmentAlreadyRegistered,
        /abc12345 is registered already .*`autopilot environments add --replace` replaces its registration/,
      );
      expect(await tb.registry.get('abc12345')).toEqual(registered);
      expect((await moved.stats()).requests['POST /e/{environmentId}/api/v2/apiTokens/lookup']).toBeUndefined();

      const replaced = await add({
        id: 'abc12345',
        kind: 'saas',
        apiUrl: moved.url,
        replace: true,
        stagedSecretRef: await stage(movedToken),
      });
      expect(replaced).toMatchObject({
        op: 'add',
        environment: { id: 'abc12345', apiUrl: moved.url, source: 'registered' },
      });
      const record = await tb.registry.get('abc12345');
      expect(record!.tokens.map((t) => [t.purpose, t.state, t.mintedByUs])).toEqual([['automation', 'current', false]]);
      expect((await tb.deps.secrets.get(secretRefs.environmentToken('abc12345', 'automation')))?.value).toBe(
        movedToken,
      );
    } finally {
      await moved.stop();
    }
  });

  it('a record written before these rules sends no token where it may not go (the client factory refuses)', async () => {
    const legacy = [
      { id: 'legacy-a', kind: 'saas' as const, apiUrl: capture.url },
      { id: 'legacy-b', kind: 'saas' as const, apiUrl: `http://legacy-b.localhost:${capturePort}` },
      { id: 'legacy-c', kind: 'managed' as const, apiUrl: `${capture.url}/e/legacy-c` },
    ];
    for (const record of legacy) {
      await tb.registry.record({ ...record, source: 'registered' });
      await production.secrets.put(secretRefs.environmentToken(record.id, 'automation'), victimToken, {});
    }
    for (const { id } of legacy) {
      const failure = await production.dynatrace.environments
        .withApi(id, 'automation', (api) => collect(api.problems.list()))
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(failure, id).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: FailureType.EnvironmentUrlRefused, nonRetryable: true });
      expect((failure as Error).message).toMatch(/^no token goes to http:\/\/(127\.0\.0\.1|legacy-b\.localhost):\d+: /);
    }
    // The fleet query answers for each of them with the reason, and for the rest of the fleet as usual.
    const answers: FleetAnswer[] = [];
    for await (const answer of queryFleet(
      { registry: tb.registry, clients: production.dynatrace.clients, tokens: production.dynatrace.tokens },
      'legacy-*',
      parseFleetPath('GET', 'v2/problems'),
      { concurrency: 4 },
    )) {
      answers.push(answer);
    }
    expect(answers.map((a) => [a.environmentId, a.ok, a.error?.split(':')[0]]).sort()).toEqual(
      legacy.map(({ id }) => [id, false, 'no token goes to http']),
    );
    // A Managed record whose URL was tampered with still reaches its cluster, where the URL comes from the configuration.
    const { token } = await tb.dt.environment('legacy-d');
    await tb.registry.record({
      id: 'legacy-d',
      kind: 'managed',
      cluster: 'default',
      apiUrl: `${capture.url}/e/legacy-d`,
      source: 'registered',
    });
    await production.secrets.put(secretRefs.environmentToken('legacy-d', 'automation'), token, {});
    await production.dynatrace.environments.withApi('legacy-d', 'automation', (api) => collect(api.problems.list()));
    expect(capture.requests).toEqual([]);
  });
});
