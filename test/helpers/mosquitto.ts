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
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
}

const uidOf = (user: string): number | null => {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
};

export async function startMosquitto(): Promise<MosquittoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-mosquitto-'));
  const port = await freePort();
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
      `plugin ${DYNSEC_PLUGIN}`,
      `plugin_opt_config_file ${dynsec}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      // Mosquitto logs a refused publish ("Denied PUBLISH from …") at debug level only; LOA_DEBUG_MOSQ=1 logs everything.
      'log_type debug',
      ...(process.env.LOA_DEBUG_MOSQ ? ['log_type all'] : []),
      asRoot ? `user ${uid === null ? 'root' : 'mosquitto'}` : '',
      '',
    ].join('\n'),
  );
  if (uid !== null) for (const f of [dir, dynsec, join(dir, 'mosquitto.conf')]) chownSync(f, uid, uid);
  const { stderr, stop } = await startDaemon({ name: 'mosquitto', bin: MOSQUITTO_BIN, args: ['-c', join(dir, 'mosquitto.conf')], dir, ready: () => listening(port) });
  return { port, url: `mqtt://127.0.0.1:${port}`, adminUser, adminPassword, log: stderr, stop };
}
