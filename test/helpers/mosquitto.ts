/**
 * A real Mosquitto 2 (Debian's mosquitto, which CI installs) on loopback with the dynamic-security plugin, for the
 * external-broker tests (issue 13).
 *
 * Quirks, found by running it:
 * - As root, mosquitto drops its privileges to the user `mosquitto` (its `user` option), which must then read and
 *   write the plugin's JSON file (the plugin saves every change): the temp dir is handed to that user, as
 *   test/helpers/icecast.ts does for icecast2.
 * - `mosquitto_ctrl dynsec init <file> <admin-user> <admin-password>` writes the file with an admin client and the
 *   default ACL access (publishClientSend deny, subscribe deny, publishClientReceive allow, unsubscribe allow).
 * - `max_qos` is a per-listener setting: it follows every `listener` line, or only the first listener has it.
 * - Debian's 2.0.11 does not apply `max_keepalive` to MQTT 3.1.1 clients (2.0.12 does): keep-alive 0 gets in.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { listening, startDaemon } from './daemon.ts';
import { freePort } from './icecast.ts';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';
export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';
const CTRL = '/usr/bin/mosquitto_ctrl';

export const mosquittoAvailable = (): boolean => [MOSQUITTO_BIN, DYNSEC_PLUGIN, CTRL].every((f) => existsSync(f));

export interface MosquittoServer {
  port: number;
  url: string;
  adminUser: string;
  adminPassword: string;
  /** what mosquitto wrote on stderr so far (its log) */
  log(): string;
  stop(): Promise<void>;
  /** with `tls: true` */
  tls?: MosquittoTls;
}

export interface MosquittoOptions {
  /** also open two TLS listeners, with a CA and certificates made for this run */
  tls?: boolean;
  /** more global mosquitto.conf lines (e.g. the limits of docs/mosquitto.md) */
  conf?: string[];
}

export interface MosquittoTls {
  /** mqtts://127.0.0.1:port; the server certificate names IP 127.0.0.1 and nothing else */
  url: string;
  port: number;
  /** a listener that also requires a client certificate signed by the CA (require_certificate true) */
  mtlsUrl: string;
  mtlsPort: number;
  /** the CA that signed the server and client certificates: PEM, and the file holding it */
  ca: string;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** a CA that signed nothing here: trusting only it must fail */
  otherCaFile: string;
}

const SHA256 = { algorithm: 'sha256', keySize: 2048 } as const;

/** A CA, a server certificate for 127.0.0.1 and a client certificate signed by it, and an unrelated CA. */
async function makePki(dir: string) {
  const caExt = [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }] as const;
  const leaf = (usage: 'serverAuth' | 'clientAuth') => [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', [usage]: true },
  ];
  const ca = await generate([{ name: 'commonName', value: 'Loa Xa test CA' }], { ...SHA256, extensions: [...caExt] });
  const other = await generate([{ name: 'commonName', value: 'Some other CA' }], { ...SHA256, extensions: [...caExt] });
  const signer = { key: ca.private, cert: ca.cert };
  const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], { ...SHA256, ca: signer, extensions: [...leaf('serverAuth'), { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] as never });
  const client = await generate([{ name: 'commonName', value: 'loa-server' }], { ...SHA256, ca: signer, extensions: leaf('clientAuth') as never });
  const files = { caFile: 'ca.pem', otherCaFile: 'other-ca.pem', serverCertFile: 'server.pem', serverKeyFile: 'server.key', clientCertFile: 'client.pem', clientKeyFile: 'client.key' };
  const pems: Record<keyof typeof files, string> = { caFile: ca.cert, otherCaFile: other.cert, serverCertFile: server.cert, serverKeyFile: server.private, clientCertFile: client.cert, clientKeyFile: client.private };
  const out = {} as Record<keyof typeof files, string>;
  for (const k of Object.keys(files) as (keyof typeof files)[]) writeFileSync((out[k] = join(dir, files[k])), pems[k], { mode: 0o600 });
  return { ...out, ca: ca.cert };
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

const uidOf = (user: string): number | null => {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
};

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-mosquitto-'));
  const [port, tlsPort, mtlsPort] = await distinctPorts(opts.tls ? 3 : 1);
  const pki = opts.tls ? await makePki(dir) : null;
  const adminUser = 'loa-admin';
  const adminPassword = randomBytes(12).toString('hex');
  const dynsec = join(dir, 'dynamic-security.json');
  const init = spawnSync(CTRL, ['dynsec', 'init', dynsec, adminUser, adminPassword], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr || init.stdout}`);
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? uidOf('mosquitto') : null;
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      'persistence false',
      'max_qos 1',
      ...(pki
        ? [
            `listener ${tlsPort} 127.0.0.1`,
            'max_qos 1',
            `certfile ${pki.serverCertFile}`,
            `keyfile ${pki.serverKeyFile}`,
            `listener ${mtlsPort} 127.0.0.1`,
            'max_qos 1',
            `certfile ${pki.serverCertFile}`,
            `keyfile ${pki.serverKeyFile}`,
            `cafile ${pki.caFile}`,
            'require_certificate true',
          ]
        : []),
      ...(opts.conf ?? []),
      `plugin ${DYNSEC_PLUGIN}`,
      `plugin_opt_config_file ${dynsec}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      // Disconnections for a broken limit ("… disconnected due to oversize packet") are logged as information.
      'log_type information',
      // Mosquitto logs a refused publish ("Denied PUBLISH from …") at debug level only; LOA_DEBUG_MOSQ=1 logs everything.
      'log_type debug',
      ...(process.env.LOA_DEBUG_MOSQ ? ['log_type all'] : []),
      asRoot ? `user ${uid === null ? 'root' : 'mosquitto'}` : '',
      '',
    ].join('\n'),
  );
  const owned = [dir, dynsec, join(dir, 'mosquitto.conf'), ...(pki ? [pki.caFile, pki.serverCertFile, pki.serverKeyFile] : [])];
  if (uid !== null) for (const f of owned) chownSync(f, uid, uid);
  const ports = pki ? [port, tlsPort, mtlsPort] : [port];
  const ready = async () => (await Promise.all(ports.map(listening))).every(Boolean);
  const { stderr, stop } = await startDaemon({ name: 'mosquitto', bin: MOSQUITTO_BIN, args: ['-c', join(dir, 'mosquitto.conf')], dir, ready });
  const tls: MosquittoTls | undefined = pki
    ? {
        url: `mqtts://127.0.0.1:${tlsPort}`,
        port: tlsPort,
        mtlsUrl: `mqtts://127.0.0.1:${mtlsPort}`,
        mtlsPort,
        ca: pki.ca,
        caFile: pki.caFile,
        clientCertFile: pki.clientCertFile,
        clientKeyFile: pki.clientKeyFile,
        otherCaFile: pki.otherCaFile,
      }
    : undefined;
  return { port, url: `mqtt://127.0.0.1:${port}`, adminUser, adminPassword, log: stderr, stop, tls };
}
