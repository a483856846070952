import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { OUTPUTS, SECRET, TestBroker, waitFor } from './harness.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'loa-sim-cli-'));
const write = (name: string, body: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
};

interface Run {
  code: Promise<number | null>;
  stderr: () => string;
  stdout: () => string;
  kill: (sig: NodeJS.Signals) => void;
}
function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return {
    code: new Promise((r) => child.on('exit', (code) => r(code))),
    stderr: () => err,
    stdout: () => out,
    kill: (sig) => child.kill(sig),
  };
}

const member = (id: string) => ({ id, secret: SECRET, outputs: OUTPUTS });
let broker: TestBroker | undefined;
afterAll(async () => broker?.close());

describe('cli', () => {
  it('rejects a fleet file that does not match the schema, naming the file and the field', async () => {
    const p = write('bad.json', { clusters: [{ id: 'Cụm Chợ', secret: SECRET, outputs: OUTPUTS }] });
    const r = run(['--server', 'mqtt://127.0.0.1:1', '--fleet', p]);
    expect(await r.code).toBe(2);
    expect(r.stderr()).toContain(p);
    expect(r.stderr()).toMatch(/\/clusters\/0\/id/);
  });

  it('rejects --count larger than the fleet, and unknown faults, before connecting anything', async () => {
    const p = write('two.json', { clusters: [member('cum-a1'), member('cum-a2')] });
    const tooMany = run(['--server', 'mqtt://127.0.0.1:1', '--fleet', p, '--count', '3']);
    const badFault = run(['--server', 'mqtt://127.0.0.1:1', '--fleet', p, '--fault', 'mains-loss:lots']);
    expect(await tooMany.code).toBe(2);
    expect(tooMany.stderr()).toMatch(/--count 3 but .*two\.json has only 2 cluster/);
    expect(await badFault.code).toBe(2);
    expect(badFault.stderr()).toMatch(/selection "lots"/);
    const badHttp = run(['--server', 'mqtt://127.0.0.1:1', '--fleet', p, '--http', 'ftp://x']);
    const badMode = run(['--server', 'mqtt://127.0.0.1:1', '--fleet', p, '--content-fetch', 'maybe']);
    expect(await badHttp.code).toBe(2);
    expect(badHttp.stderr()).toMatch(/--http "ftp:\/\/x" is not an http/);
    expect(await badMode.code).toBe(2);
    expect(badMode.stderr()).toMatch(/--content-fetch must be http or assume/);
  });

  it('--fleet demo reads $LOA_DATA_DIR/demo-fleet.json', async () => {
    const r = run(['--fleet', 'demo', '--server', 'mqtt://127.0.0.1:1'], { LOA_DATA_DIR: join(dir, 'nowhere') });
    expect(await r.code).toBe(2);
    expect(r.stderr()).toContain(join(dir, 'nowhere', 'demo-fleet.json'));
  });

  it('runs a fleet with a fault, prints progress, and stops cleanly on SIGINT', async () => {
    broker = await TestBroker.start();
    const ids = ['cum-b1', 'cum-b2', 'cum-b3', 'cum-b4'];
    const p = write('four.json', { server: broker.url, http: 'http://127.0.0.1:9', clusters: ids.map(member) });
    const r = run(['--fleet', p, '--count', '3', '--fault', 'output-short:2']);
    await waitFor(() => r.stderr().includes('applied to 2 cluster'), 15_000, 'fault applied');
    await waitFor(() => /online 3\/3/.test(r.stderr()), 5000, 'progress line');
    expect(r.stderr()).toContain('content from http://127.0.0.1:9'); // the fleet file's `http`
    const shorts = () => broker!.publishes.filter((e) => e.topic.endsWith('/event') && e.json.type === 'output_fault');
    await waitFor(() => shorts().length === 2, 3000, 'output_fault events');
    expect(new Set(broker.publishes.filter((e) => e.topic.endsWith('/birth')).map((e) => e.clientId))).toEqual(new Set(ids.slice(0, 3)));
    r.kill('SIGINT');
    expect(await r.code).toBe(0);
    const offline = broker.publishes.filter((e) => e.topic.endsWith('/status') && e.json.state === 'offline');
    expect(offline.filter((e) => !e.will)).toHaveLength(3);
    expect(offline.filter((e) => e.will)).toHaveLength(0);
  });
});
