import { badRequest, json, notFound, violation, type SimResponse } from '../http.js';
import { environmentOf, type Handler, type RequestContext, type Router } from '../router.js';
import type { SimulatorServices } from '../services.js';

const OS_TYPES = ['windows', 'unix', 'aix', 'solaris', 'zos'];
const INSTALLER_TYPES = ['default', 'default-unattended', 'mainframe', 'paas', 'paas-sh'];
const ARCHES = ['all', 'x86', 'ppc', 'ppcle', 'sparc', 'arm', 's390'];
/** The simulator builds shell installers only; everything else is valid but not on offer here. */
const SERVED = new Set(['unix/default', 'unix/paas-sh']);

function checkInstallerPath(ctx: RequestContext): void {
  const { osType, installerType } = ctx.params;
  if (!OS_TYPES.includes(osType!)) {
    throw badRequest(`Invalid osType ${osType}`, [
      violation('osType', `must be one of ${OS_TYPES.join(', ')}`, 'PATH'),
    ]);
  }
  if (!INSTALLER_TYPES.includes(installerType!)) {
    throw badRequest(`Invalid installerType ${installerType}`, [
      violation('installerType', `must be one of ${INSTALLER_TYPES.join(', ')}`, 'PATH'),
    ]);
  }
  const arch = ctx.query.get('arch');
  if (arch !== null && !ARCHES.includes(arch)) {
    throw badRequest(`Invalid arch ${arch}`, [violation('arch', `must be one of ${ARCHES.join(', ')}`, 'QUERY')]);
  }
  if (!SERVED.has(`${osType}/${installerType}`) || (arch !== null && arch !== 'x86' && arch !== 'all')) {
    throw notFound(`No ${osType}/${installerType} installer for arch ${arch ?? 'x86'} is available`);
  }
}

export function registerDeploymentRoutes(router: Router, svc: SimulatorServices): void {
  const { state, stats } = svc;
  const base = '/api/v1/deployment/installer/agent';
  const env = (method: string, pattern: string, handler: Handler) =>
    router.add({ method, pattern: `${base}${pattern}`, area: 'environment', scopes: ['InstallerDownload'], handler });

  const download = async (ctx: RequestContext, version: string): Promise<SimResponse> => {
    const environment = environmentOf(ctx);
    const installer = await svc.installers.get(environment, version);
    const headers = {
      ETag: installer.etag,
      'Content-Disposition': `attachment; filename=Dynatrace-OneAgent-Linux-${version}.sh`,
    };
    const ifNoneMatch = ctx.req.headers['if-none-match'];
    if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === installer.etag || tag.trim() === '*')) {
      stats.installerNotModified++;
      stats.env(environment.id, 'installerNotModified');
      return { status: 304, headers };
    }
    stats.installerDownloads++;
    stats.env(environment.id, 'installerDownloads');
    return { status: 200, raw: installer.body, contentType: 'application/octet-stream', headers };
  };

  env('GET', '/versions/{osType}/{installerType}', (ctx) => {
    checkInstallerPath(ctx);
    return json(200, { availableVersions: [...state.installerVersions] });
  });

  env('GET', '/connectioninfo', (ctx) => {
    const environment = environmentOf(ctx);
    const endpoint = `${svc.baseUrl()}/communication`;
    return json(200, {
      tenantUUID: environment.id,
      tenantToken: environment.tenantToken,
      communicationEndpoints: [endpoint],
      formattedCommunicationEndpoints: endpoint,
    });
  });

  env('GET', '/connectioninfo/endpoints', () => ({
    status: 200,
    raw: `${svc.baseUrl()}/communication`,
    contentType: 'text/plain',
  }));

  env('GET', '/{osType}/{installerType}/latest/metainfo', (ctx) => {
    checkInstallerPath(ctx);
    return json(200, { latestAgentVersion: state.installerVersions.at(-1) });
  });

  env('GET', '/{osType}/{installerType}/latest', (ctx) => {
    checkInstallerPath(ctx);
    return download(ctx, state.installerVersions.at(-1)!);
  });

  env('GET', '/{osType}/{installerType}/version/{version}', (ctx) => {
    checkInstallerPath(ctx);
    const version = ctx.params.version!;
    if (!state.installerVersions.includes(version)) throw notFound(`Installer version ${version} not found`);
    return download(ctx, version);
  });
}
