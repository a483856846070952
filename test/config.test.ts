import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, heartbeatTimeoutMs, loadConfig } from '../server/src/config.ts';

describe('configuration', () => {
  it('uses documented defaults', () => {
    const c = loadConfig({});
    expect(c.LOA_HTTP_PORT).toBe(8080);
    expect(c.LOA_MQTT_PORT).toBe(1883);
    expect(c.LOA_DATA_DIR).toBe('./data');
    expect(c.LOA_DEMO).toBe(false);
    expect(heartbeatTimeoutMs(c)).toBe(75_000);
  });

  it('converts numbers and booleans from strings', () => {
    const c = loadConfig({ LOA_HTTP_PORT: '9090', LOA_DEMO: '1', LOA_TELEMETRY_INTERVAL_S: '10' });
    expect(c).toMatchObject({ LOA_HTTP_PORT: 9090, LOA_DEMO: true, LOA_TELEMETRY_INTERVAL_S: 10 });
    expect(heartbeatTimeoutMs(c)).toBe(25_000);
  });

  it('names every bad variable and what it accepts', () => {
    let message = '';
    try {
      loadConfig({ LOA_HTTP_PORT: 'eighty', LOA_LOG_LEVEL: 'loud', LOA_MQTT_PORT: '70000' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('LOA_HTTP_PORT="eighty" is invalid: expected an integer ≥ 0 ≤ 65535');
    expect(message).toContain('LOA_MQTT_PORT="70000" is invalid: expected an integer ≥ 0 ≤ 65535');
    expect(message).toContain('LOA_LOG_LEVEL="loud" is invalid: expected one of "fatal", "error"');
  });

  it('refuses a short admin password and a TLS cert without key', () => {
    expect(() => loadConfig({ LOA_ADMIN_PASSWORD: 'short' })).toThrowError(/LOA_ADMIN_PASSWORD is too short/);
    expect(() => loadConfig({ LOA_MQTT_TLS_CERT: '/tmp/cert.pem' })).toThrowError(/LOA_MQTT_TLS_CERT and LOA_MQTT_TLS_KEY must be set together/);
  });

  it("checks the external link's TLS files, their pairing and that the URL is mqtts://", () => {
    const dir = mkdtempSync(join(tmpdir(), 'loa-config-'));
    const pem = join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n');
    const url = 'mqtts://broker.example:8883';
    const c = loadConfig({ LOA_MQTT_URL: url, LOA_MQTT_CA_FILE: pem, LOA_MQTT_CLIENT_CERT_FILE: pem, LOA_MQTT_CLIENT_KEY_FILE: pem, LOA_MQTT_TLS_SERVERNAME: 'broker.internal' });
    expect(c).toMatchObject({ LOA_MQTT_CA_FILE: pem, LOA_MQTT_TLS_SERVERNAME: 'broker.internal' });
    expect(() => loadConfig({ LOA_MQTT_URL: url, LOA_MQTT_CA_FILE: join(dir, 'missing.pem') })).toThrowError(`LOA_MQTT_CA_FILE="${join(dir, 'missing.pem')}" cannot be read: no such file`);
    expect(() => loadConfig({ LOA_MQTT_URL: url, LOA_MQTT_CA_FILE: dir })).toThrowError(/LOA_MQTT_CA_FILE=".*" cannot be read: not a file/);
    expect(() => loadConfig({ LOA_MQTT_URL: url, LOA_MQTT_CLIENT_CERT_FILE: pem })).toThrowError('LOA_MQTT_CLIENT_CERT_FILE and LOA_MQTT_CLIENT_KEY_FILE must be set together');
    expect(() => loadConfig({ LOA_MQTT_URL: 'mqtt://broker.example:1883', LOA_MQTT_CA_FILE: pem })).toThrowError('LOA_MQTT_CA_FILE applies only to an mqtts:// LOA_MQTT_URL (LOA_MQTT_URL="mqtt://broker.example:1883")');
    expect(() => loadConfig({ LOA_MQTT_CLIENT_CERT_FILE: pem, LOA_MQTT_CLIENT_KEY_FILE: pem })).toThrowError('LOA_MQTT_CLIENT_CERT_FILE, LOA_MQTT_CLIENT_KEY_FILE apply only to an mqtts:// LOA_MQTT_URL (LOA_MQTT_URL is empty)');
  });

  it('lists every variable in .env.example', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    for (const key of Object.keys(ConfigSchema.properties)) expect(example).toMatch(new RegExp(`^${key}=`, 'm'));
  });

  it('stops the process with exit code 2 and the message on a bad value', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, LOA_HTTP_PORT: 'nope', LOA_DATA_DIR: '/tmp/loa-never-created' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('LOA_HTTP_PORT="nope" is invalid');
  });
});
