import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readSecret } from '../../src/config/config.js';
import { thrownBy } from '../helpers/thrown.js';

const configError = (env: Record<string, string>) => thrownBy(() => loadConfig(env), ConfigError);

describe('configuration from environment variables', () => {
  it('has working defaults for a fresh machine (sandbox mode)', () => {
    const config = loadConfig({});
    expect(config.temporal).toEqual({ address: undefined, namespace: 'default', taskQueue: 'dynatrace-autopilot' });
    expect(config.worker.metricsAddress).toBe('127.0.0.1:9464');
    expect(config.devServer.port).toBe(7233);
    expect(config.dataDir).toMatch(/\.data$/);
  });

  it('accepts host:port addresses, including IPv6 and treats blanks as unset', () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: 'temporal.example.com:7233' }).temporal.address).toBe(
      'temporal.example.com:7233',
    );
    expect(loadConfig({ TEMPORAL_ADDRESS: '[::1]:7233' }).temporal.address).toBe('[::1]:7233');
    expect(loadConfig({ TEMPORAL_ADDRESS: '  ' }).temporal.address).toBeUndefined();
    expect(loadConfig({ AUTOPILOT_METRICS_ADDRESS: 'off' }).worker.metricsAddress).toBeUndefined();
    expect(loadConfig({ AUTOPILOT_METRICS_ADDRESS: '127.0.0.1:0' }).worker.metricsAddress).toBe('127.0.0.1:0');
    expect(loadConfig({ AUTOPILOT_LOG_LEVEL: 'debug' }).worker.logLevel).toBe('DEBUG');
  });

  it.each([
    ['TEMPORAL_ADDRESS', 'not a url', /TEMPORAL_ADDRESS must be host:port/],
    ['TEMPORAL_ADDRESS', 'http://localhost:7233', /TEMPORAL_ADDRESS must be host:port/],
    ['TEMPORAL_ADDRESS', 'localhost:99999', /TEMPORAL_ADDRESS .*65535/],
    ['TEMPORAL_ADDRESS', 'localhost:0', /TEMPORAL_ADDRESS must be host:port/],
    ['AUTOPILOT_METRICS_ADDRESS', '127.0.0.1:65536', /AUTOPILOT_METRICS_ADDRESS must have a port from 0 to 65535/],
    ['AUTOPILOT_METRICS_ADDRESS', '9464', /AUTOPILOT_METRICS_ADDRESS must be host:port/],
    ['TEMPORAL_NAMESPACE', 'has space', /TEMPORAL_NAMESPACE must be/],
    ['AUTOPILOT_LOG_LEVEL', 'loud', /AUTOPILOT_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR/],
    ['AUTOPILOT_DEV_SERVER_PORT', 'seven', /AUTOPILOT_DEV_SERVER_PORT must be a port number/],
    ['AUTOPILOT_MAX_CONCURRENT_ACTIVITIES', '0', /AUTOPILOT_MAX_CONCURRENT_ACTIVITIES must be a positive integer/],
  ])('rejects %s=%j with one line naming the variable', (variable, value, expected) => {
    const err = configError({ [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(expected);
    expect(err.message).toContain(JSON.stringify(value));
    expect(err.message).not.toContain('\n');
  });

  describe('secrets from NAME or NAME_FILE', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-secret-'));
    const file = path.join(dir, 'token');
    writeFileSync(file, 's3cr3t-value\n');

    it('reads NAME directly or the file named by NAME_FILE, without its trailing newline', () => {
      expect(readSecret({ DT_TOKEN: 'direct' }, 'DT_TOKEN')).toBe('direct');
      expect(readSecret({ DT_TOKEN_FILE: file }, 'DT_TOKEN')).toBe('s3cr3t-value');
      expect(readSecret({}, 'DT_TOKEN')).toBeUndefined();
    });

    it('refuses both at once, and names an unreadable file without revealing any value', () => {
      expect(() => readSecret({ DT_TOKEN: 'direct', DT_TOKEN_FILE: file }, 'DT_TOKEN')).toThrow(
        /DT_TOKEN and DT_TOKEN_FILE are both set/,
      );
      const missing = path.join(dir, 'nope');
      expect(() => readSecret({ DT_TOKEN_FILE: missing }, 'DT_TOKEN')).toThrow(
        `Invalid configuration: DT_TOKEN_FILE names a file that cannot be read: ${missing} (ENOENT)`,
      );
      try {
        readSecret({ DT_TOKEN: 'direct', DT_TOKEN_FILE: file }, 'DT_TOKEN');
      } catch (err) {
        expect(String(err)).not.toContain('direct');
        expect(String(err)).not.toContain('s3cr3t');
      }
    });
  });

  describe('Dynatrace cluster settings', () => {
    it('runs the simulator when DT_CLUSTER_URL is unset, and needs a token when it is set', () => {
      expect(loadConfig({}).dynatrace.clusterUrl).toBeUndefined();
      const err = configError({ DT_CLUSTER_URL: 'https://managed.example.com' });
      expect(err.variable).toBe('DT_CLUSTER_TOKEN');
      expect(err.message).toBe(
        'Invalid configuration: DT_CLUSTER_TOKEN (or DT_CLUSTER_TOKEN_FILE) is required when DT_CLUSTER_URL is set',
      );
      expect(configError({ DT_CLUSTER_URL: 'managed.example.com' }).message).toMatch(
        /DT_CLUSTER_URL must be the cluster base URL/,
      );
    });

    it('takes the cluster over https only: its tokens are sent to it', () => {
      const err = configError({ DT_CLUSTER_URL: 'http://managed.example.com', DT_CLUSTER_TOKEN: 'dt0c01.X.y' });
      expect(err.variable).toBe('DT_CLUSTER_URL');
      expect(err.message).toBe(
        'Invalid configuration: DT_CLUSTER_URL must be an https URL: the cluster token and environment tokens are sent to it (got "http://managed.example.com")',
      );
      expect(
        loadConfig({ DT_CLUSTER_URL: 'https://managed.example.com:8443/', DT_CLUSTER_TOKEN: 'dt0c01.X.y' }).dynatrace
          .clusterUrl,
      ).toBe('https://managed.example.com:8443');
    });

    it("lists the SaaS domains: Dynatrace's by default, or the operator's", () => {
      expect(loadConfig({}).dynatrace.saasDomains).toEqual(['live.dynatrace.com']);
      expect(
        loadConfig({ AUTOPILOT_SAAS_DOMAINS: 'live.dynatrace.com, .Sprint.DynatraceLabs.com' }).dynatrace.saasDomains,
      ).toEqual(['live.dynatrace.com', 'sprint.dynatracelabs.com']);
      for (const value of ['live.dynatrace.com,,x.com', 'https://live.dynatrace.com', '*.live.dynatrace.com']) {
        const err = configError({ AUTOPILOT_SAAS_DOMAINS: value });
        expect(err.variable).toBe('AUTOPILOT_SAAS_DOMAINS');
        expect(err.message).toContain('must be a comma-separated list of domains, e.g. live.dynatrace.com');
      }
    });

    it('keeps the cluster token out of anything printed or serialised', () => {
      const config = loadConfig({
        DT_CLUSTER_URL: 'https://managed.example.com/',
        DT_CLUSTER_TOKEN: 'dt0c01.SECRETVALUE',
      });
      expect(config.dynatrace.clusterUrl).toBe('https://managed.example.com');
      expect(config.dynatrace.clusterToken?.reveal()).toBe('dt0c01.SECRETVALUE');
      expect(JSON.stringify(config)).not.toContain('SECRETVALUE');
      expect(String(config.dynatrace.clusterToken)).toBe('[redacted]');
      expect(inspect(config, { depth: 5 })).not.toContain('SECRETVALUE');
    });
  });
});
