import { z } from 'zod';
import { HttpError, json } from '../http.js';
import type { Router } from '../router.js';
import type { SimulatorServices } from '../services.js';
import type { HostTag } from '../state.js';
import { validateBody } from '../validation.js';

const connectBody = z.object({
  tenant: z.string().min(1),
  tenantToken: z.string().min(1),
  hostName: z.string().default(''),
  detectedName: z.string().min(1),
  hostGroup: z.string().default(''),
  tags: z.string().default(''),
  properties: z.string().default(''),
  monitoringMode: z.enum(['fullstack', 'infra-only', 'discovery']).default('fullstack'),
  installerVersion: z.string().min(1),
  installPath: z.string().optional(),
});

/** `key=value key2` as given to `--set-host-tag` / `--set-host-property`. */
function pairs(text: string): [string, string | undefined][] {
  return text
    .split(/\s+/)
    .filter(Boolean)
    .map((item) => {
      const eq = item.indexOf('=');
      return eq >= 0 ? [item.slice(0, eq), item.slice(eq + 1)] : [item, undefined];
    });
}

const MODES = { fullstack: 'FULL_STACK', 'infra-only': 'INFRA_ONLY', discovery: 'DISCOVERY' } as const;

/**
 * What an installed agent does when it first talks to its cluster, reduced to one call: it
 * authenticates with the environment's tenant token and the host appears in the environment.
 */
export function registerAgentRoutes(router: Router, svc: SimulatorServices): void {
  const { state, stats } = svc;
  router.add({
    method: 'POST',
    pattern: '/communication/oneagent/connect',
    area: 'agent',
    scopes: [],
    handler: (ctx) => {
      const body = validateBody(connectBody, ctx.body());
      const environment = state.environments.get(body.tenant);
      if (!environment || environment.tenantToken !== body.tenantToken) {
        throw new HttpError(401, 'Invalid tenant or tenant token');
      }
      const name = body.hostName || body.detectedName;
      stats.agentConnects++;
      if (svc.knobs().failInstallHosts.some((h) => h.toLowerCase() === name.toLowerCase())) {
        stats.failedInstalls++;
        throw new HttpError(500, `Simulated installation failure on ${name}: agent could not register (error 13)`);
      }
      const entityId = state.hostEntityId(environment.id, name);
      const now = Date.now();
      const existing = environment.hosts.get(entityId);
      const properties = Object.fromEntries(pairs(body.properties).map(([k, v]) => [k, v ?? '']));
      const tags: HostTag[] = pairs(body.tags).map(([key, value]) => ({
        context: 'ENVIRONMENT',
        key,
        ...(value !== undefined ? { value } : {}),
      }));
      environment.hosts.set(entityId, {
        entityId,
        hostName: name,
        detectedName: body.detectedName,
        ...(body.hostName ? { customHostName: body.hostName } : {}),
        ...(body.hostGroup ? { hostGroup: body.hostGroup } : {}),
        tags,
        properties: { ...existing?.properties, ...properties },
        installerVersion: body.installerVersion,
        monitoringMode: MODES[body.monitoringMode],
        osType: 'LINUX',
        ipAddresses: existing?.ipAddresses ?? ['127.0.0.1'],
        ...(existing?.awsInstanceId || properties.awsInstanceId
          ? { awsInstanceId: properties.awsInstanceId ?? existing?.awsInstanceId }
          : {}),
        ...(existing?.awsInstanceType ? { awsInstanceType: existing.awsInstanceType } : {}),
        firstSeenTms: existing?.firstSeenTms ?? now,
        lastSeenTms: now,
        state: 'RUNNING',
      });
      if (!existing) {
        stats.hostsConnected++;
        stats.env(environment.id, 'hostsConnected');
      }
      svc.changed();
      return json(200, { entityId, tenant: environment.id });
    },
  });
}
