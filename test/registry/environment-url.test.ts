import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SAAS_DOMAINS,
  EnvironmentUrlError,
  saasUrlRefusal,
  understandEnvironmentUrl,
} from '../../src/dynatrace/environment-url.js';
import { isRegistrationStagingRef, secretRefs } from '../../src/secrets/secret-store.js';
import { thrownBy } from '../helpers/thrown.js';

const refusalOf = (url: string, domains: readonly string[] = DEFAULT_SAAS_DOMAINS) =>
  thrownBy(() => understandEnvironmentUrl(url, domains), EnvironmentUrlError).message;

describe('environment URLs as operators paste them', () => {
  it.each([
    ['https://abc12345.live.dynatrace.com', 'https://abc12345.live.dynatrace.com'],
    ['https://abc12345.live.dynatrace.com/', 'https://abc12345.live.dynatrace.com'],
    ['  https://ABC12345.Live.Dynatrace.com///  ', 'https://abc12345.live.dynatrace.com'],
    ['https://abc12345.live.dynatrace.com/api', 'https://abc12345.live.dynatrace.com'],
    ['https://abc12345.live.dynatrace.com/api/', 'https://abc12345.live.dynatrace.com'],
    ['https://abc12345.live.dynatrace.com/api/v2', 'https://abc12345.live.dynatrace.com'],
    ['https://abc12345.live.dynatrace.com/api/v1/', 'https://abc12345.live.dynatrace.com'],
    ['https://abc12345.live.dynatrace.com/api/config/v1', 'https://abc12345.live.dynatrace.com'],
    [
      'https://abc12345.live.dynatrace.com/api/v2/entities?entitySelector=type(HOST)',
      'https://abc12345.live.dynatrace.com',
    ],
    ['https://abc12345.live.dynatrace.com/#dashboards;gtf=-2h', 'https://abc12345.live.dynatrace.com'],
    [
      'https://abc12345.live.dynatrace.com/ui/apps/dynatrace.classic.hosts?x=1#y',
      'https://abc12345.live.dynatrace.com',
    ],
    ['https://abc12345.live.dynatrace.com/platform/classic/environment-api/v2', 'https://abc12345.live.dynatrace.com'],
    ['abc12345.live.dynatrace.com', 'https://abc12345.live.dynatrace.com'],
    ['https://abc12345.live.dynatrace.com:443/api/v2', 'https://abc12345.live.dynatrace.com'],
  ])('%s is the SaaS environment %s', (pasted, url) => {
    expect(understandEnvironmentUrl(pasted)).toEqual({ form: 'saas', url, environmentId: 'abc12345', notes: [] });
  });

  it.each([
    ['https://managed.example.com/e/abc-p1', 'https://managed.example.com/e/abc-p1'],
    ['https://managed.example.com/e/abc-p1/', 'https://managed.example.com/e/abc-p1'],
    ['https://Managed.Example.com:8443/e/abc-p1/api/v2', 'https://managed.example.com:8443/e/abc-p1'],
    ['https://managed.example.com/e/abc-p1/api/config/v1/', 'https://managed.example.com/e/abc-p1'],
    ['https://managed.example.com/e/abc-p1/ui/hosts?gtf=-2h', 'https://managed.example.com/e/abc-p1'],
    ['https://managed.example.com/e/abc-p1/#problems', 'https://managed.example.com/e/abc-p1'],
    ['https://managed.example.com/e/api', 'https://managed.example.com/e/api'],
  ])('%s is the Managed environment %s', (pasted, url) => {
    const understood = understandEnvironmentUrl(pasted);
    expect(understood).toMatchObject({ form: 'managed', url, notes: [] });
    expect(understood.clusterUrl).toBe(url.replace(/\/e\/.*$/, ''));
    expect(understood.environmentId).toBe(url.split('/e/')[1]);
  });

  it('maps a platform (apps) URL to the classic host that serves API tokens, and says so', () => {
    const understood = understandEnvironmentUrl('https://abc12345.apps.dynatrace.com/ui/apps/dynatrace.hosts?x=y');
    expect(understood).toMatchObject({
      form: 'saas',
      url: 'https://abc12345.live.dynatrace.com',
      environmentId: 'abc12345',
    });
    expect(understood.notes).toEqual([
      'https://abc12345.apps.dynatrace.com is the platform (apps) URL, which does not serve the environment API to API tokens: using https://abc12345.live.dynatrace.com',
    ]);
    expect(
      understandEnvironmentUrl('https://abc12345.apps.dynatrace.com/platform/classic/environment-api/v2').url,
    ).toBe('https://abc12345.live.dynatrace.com');
  });

  it("maps Dynatrace's sprint and dev platform hosts only when their domains are configured", () => {
    expect(refusalOf('https://abc12345.sprint.apps.dynatracelabs.com')).toBe(
      '"https://abc12345.sprint.apps.dynatracelabs.com" is a platform (apps) URL, which does not serve the environment API to API tokens, and sprint.dynatracelabs.com is not on AUTOPILOT_SAAS_DOMAINS to map it to',
    );
    const domains = ['live.dynatrace.com', 'sprint.dynatracelabs.com', 'dev.dynatracelabs.com'];
    expect(understandEnvironmentUrl('https://abc12345.sprint.apps.dynatracelabs.com/ui', domains)).toMatchObject({
      url: 'https://abc12345.sprint.dynatracelabs.com',
      environmentId: 'abc12345',
    });
    expect(understandEnvironmentUrl('https://abc12345.dev.apps.dynatracelabs.com', domains).url).toBe(
      'https://abc12345.dev.dynatracelabs.com',
    );
  });

  it.each([
    ['', 'the environment URL is empty'],
    ['https://', '"https://" is not a URL'],
    ['ftp://abc12345.live.dynatrace.com', 'is not an http(s) URL like https://abc12345.live.dynatrace.com'],
    ['https://user:pw@abc12345.live.dynatrace.com', 'carries a user name or password'],
    ['https://abc12345.live.apps.dynatrace.com', 'is a platform (apps) URL of a form Autopilot cannot map'],
    ['https://abc12345.apps.dynatracelabs.com', 'is a platform (apps) URL of a form Autopilot cannot map'],
    ['https://127.0.0.1:8443', 'names no environment'],
    ['https://localhost', 'names no environment'],
    ['https://managed.example.com/e', 'the path /e is neither'],
    ['https://managed.example.com/somewhere/else', 'the path /somewhere/else is neither'],
    ['https://managed.example.com/e/abc-p1/extra', 'the path /e/abc-p1/extra is neither'],
    ['https://managed.example.com/e/a%2Fb', '"a/b" after /e/ is not an environment id'],
  ])('refuses %j with a reason naming the form', (pasted, reason) => {
    expect(refusalOf(pasted)).toContain(reason);
  });
});

describe('where a SaaS token may go', () => {
  const production = { saasDomains: DEFAULT_SAAS_DOMAINS, sandbox: false };

  it('takes https below a configured domain, and nothing else', () => {
    expect(saasUrlRefusal('https://abc12345.live.dynatrace.com', production)).toBeUndefined();
    expect(saasUrlRefusal('https://abc12345.live.dynatrace.com:8443', production)).toBeUndefined();
    expect(saasUrlRefusal('http://abc12345.live.dynatrace.com', production)).toBe(
      "http://abc12345.live.dynatrace.com is plain http: tokens go to SaaS environments over https only (http is for the sandbox's simulator)",
    );
    for (const host of [
      'live.dynatrace.com',
      'abc12345.live.dynatrace.com.evil.example',
      'abc12345-live.dynatrace.com',
      'abc12345.livexdynatrace.com',
      'evillive.dynatrace.com',
      '127.0.0.1',
    ]) {
      expect(saasUrlRefusal(`https://${host}`, production)).toBe(
        `${host} is not a SaaS environment's host: it is below none of AUTOPILOT_SAAS_DOMAINS (live.dynatrace.com)`,
      );
    }
    expect(saasUrlRefusal('https://u:p@abc12345.live.dynatrace.com', production)).toContain('user name or password');
  });

  it('lets the sandbox speak http, but only to a configured domain', () => {
    const sandbox = { saasDomains: ['localhost'], sandbox: true };
    expect(saasUrlRefusal('http://abc12345.localhost:8021', sandbox)).toBeUndefined();
    expect(saasUrlRefusal('http://127.0.0.1:8021', sandbox)).toContain(
      'below none of AUTOPILOT_SAAS_DOMAINS (localhost)',
    );
  });
});

describe('the staging references of `environments add`', () => {
  it('are random names below staging/registry/, and nothing else is one', () => {
    const ref = secretRefs.registrationStaging();
    expect(ref).toMatch(/^staging\/registry\/[0-9a-f]{32}$/);
    expect(secretRefs.registrationStaging()).not.toBe(ref);
    expect(isRegistrationStagingRef(ref)).toBe(true);
    expect(isRegistrationStagingRef(`staging/registry/${'0a'.repeat(12)}`)).toBe(true);
    for (const other of [
      'dynatrace/victim-p1/automation-token',
      'dynatrace/x/pending-1234abcd',
      'staging/registry/',
      'staging/registry/abc',
      `staging/registry/${'a'.repeat(65)}`,
      `staging/registry/${'g'.repeat(32)}`,
      `staging/registry/${'A'.repeat(32)}`,
      `staging/registry/${'a'.repeat(32)}/more`,
      `staging/registry/../../dynatrace/victim-p1/${'a'.repeat(32)}`,
      `${ref}\n`,
      ` ${ref}`,
      undefined,
      42,
    ]) {
      expect(isRegistrationStagingRef(other)).toBe(false);
    }
  });
});
