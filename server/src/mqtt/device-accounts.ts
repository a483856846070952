import { isValidId, parseTopic } from '../../../schemas/device-protocol/topics.ts';
import { deviceAcls, deviceRole, groupAcls, SERVER_ROLE, serverAcls, type Acl, type Dynsec } from './dynsec.ts';

/** What the accounts need to know of the registry (DeviceDirectory has it). */
export interface AccountDirectory {
  ids(): Iterable<string>;
  has(clusterId: string): boolean;
  hasCredential(clusterId: string): boolean;
  groupsOf(clusterId: string): string[];
}

export interface ReconcileReport {
  /** clients on the broker for clusters deleted or revoked here: deleted */
  removed: string[];
  /** clusters with a credential here but no client on the broker: only their plaintext secret could create one */
  missing: string[];
  /** clients whose role was rewritten to today's groups */
  updated: number;
}

const EXISTS = /already exists/i;
const GONE = /not found/i;

/**
 * Per-device accounts on Mosquitto's dynamic-security plugin: a client (username = client id = cluster id, the
 * device secret as password) holding one role with exactly its topics (dynsec.ts, deviceAcls).
 *
 * The registry keeps only a hash of each secret (credentials.ts), so a client can be created or given a new
 * password only when the plaintext exists: at provisioning and rotation ('device.credential_issued'). A reconcile
 * can delete, disable and re-scope, never recreate; a cluster missing on the broker is reported so an operator
 * rotates its secret.
 */
export class DeviceAccounts {
  /** the last operation on each cluster's account: operations on one account run in order (a rotation's new
   *  password is set before the kick that follows it) */
  private chains = new Map<string, Promise<unknown>>();

  constructor(private dynsec: Dynsec, private directory: AccountDirectory, private serverUsername: string) {}

  private inOrder<T>(clusterId: string, op: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(clusterId) ?? Promise.resolve()).then(op, op);
    const tail = run.catch(() => undefined);
    this.chains.set(clusterId, tail);
    void tail.then(() => this.chains.get(clusterId) === tail && this.chains.delete(clusterId));
    return run;
  }

  /** Creates the client and its role, or on an existing client sets the password (rotation) and the role again. */
  provision(clusterId: string, secret: string): Promise<void> {
    return this.inOrder(clusterId, () => this.create(clusterId, secret));
  }

  private async create(clusterId: string, secret: string): Promise<void> {
    const role = deviceRole(clusterId);
    await this.dynsec.must([{ command: 'createRole', rolename: role, acls: deviceAcls(clusterId, this.directory.groupsOf(clusterId)) }], EXISTS);
    const [created] = await this.dynsec.run([
      { command: 'createClient', username: clusterId, clientid: clusterId, password: secret, roles: [{ rolename: role, priority: 1 }] },
    ]);
    if (!created.error) return;
    if (!EXISTS.test(created.error)) throw new Error(`createClient ${clusterId}: ${created.error}`);
    await this.dynsec.must([
      { command: 'setClientPassword', username: clusterId, password: secret },
      { command: 'addClientRole', username: clusterId, rolename: role, priority: 1 },
      { command: 'enableClient', username: clusterId },
    ], /already|not found/i);
    await this.rescope(clusterId, this.directory.groupsOf(clusterId));
  }

  /** Deletes the client (Mosquitto disconnects its sessions) and its role; absent already: no-op. */
  revoke(clusterId: string): Promise<unknown> {
    return this.inOrder(clusterId, () => this.dynsec.must([{ command: 'deleteClient', username: clusterId }, { command: 'deleteRole', rolename: deviceRole(clusterId) }], GONE));
  }

  async disable(clusterId: string): Promise<void> {
    await this.dynsec.must([{ command: 'disableClient', username: clusterId }]);
  }

  async enable(clusterId: string): Promise<void> {
    await this.dynsec.must([{ command: 'enableClient', username: clusterId }]);
  }

  /** Ends the device's live sessions and lets it log in again (disable, enable). */
  kick(clusterId: string): Promise<unknown> {
    return this.inOrder(clusterId, () => this.dynsec.must([{ command: 'disableClient', username: clusterId }, { command: 'enableClient', username: clusterId }], GONE));
  }

  /**
   * Rewrites the group part of the device's role to `groupIds`; resolves to the group topics no longer allowed.
   * Their delivery stops at once (deviceAcls: other groups' topics are denied on delivery).
   */
  setGroups(clusterId: string, groupIds: readonly string[]): Promise<string[]> {
    return this.inOrder(clusterId, () => this.rescope(clusterId, groupIds));
  }

  private async rescope(clusterId: string, groupIds: readonly string[]): Promise<string[]> {
    const rolename = deviceRole(clusterId);
    const [got] = await this.dynsec.run([{ command: 'getRole', rolename }]);
    if (got.error) return [];
    const have: Acl[] = got.data?.role?.acls ?? [];
    const want = groupAcls(groupIds);
    const key = (a: Acl) => `${a.acltype} ${a.topic}`;
    const wantKeys = new Set(want.map(key));
    const haveKeys = new Set(have.map(key));
    const stale = have.filter((a) => a.allow && parseTopic(a.topic)?.kind === 'group' && !wantKeys.has(key(a)));
    await this.dynsec.must([
      ...stale.map((a) => ({ command: 'removeRoleACL', rolename, acltype: a.acltype, topic: a.topic })),
      ...want.filter((a) => !haveKeys.has(key(a))).map((a) => ({ command: 'addRoleACL', rolename, ...a })),
    ], EXISTS);
    return [...new Set(stale.filter((a) => a.acltype === 'subscribeLiteral').map((a) => a.topic))];
  }

  /**
   * At start-up: the server's own role (normally there already: ExternalLink.start), then every client on the broker against the registry. Only clients that
   * look like ours (a valid cluster id holding its own device role) are touched; the admin accounts are not.
   */
  async reconcile(): Promise<ReconcileReport> {
    await ensureServerRole(this.dynsec, this.serverUsername);
    const [list] = await this.dynsec.must([{ command: 'listClients', verbose: true, count: -1, offset: 0 }]);
    const onBroker = new Set<string>();
    for (const c of (list.data?.clients ?? []) as { username: string; roles?: { rolename: string }[] }[]) {
      if (c.username === this.serverUsername || !isValidId(c.username)) continue;
      if (!c.roles?.some((r) => r.rolename === deviceRole(c.username))) continue;
      onBroker.add(c.username);
    }
    const report: ReconcileReport = { removed: [], missing: [], updated: 0 };
    for (const id of onBroker) {
      if (this.directory.has(id) && this.directory.hasCredential(id)) continue;
      await this.revoke(id);
      report.removed.push(id);
    }
    for (const id of this.directory.ids()) {
      if (!this.directory.hasCredential(id)) continue;
      if (!onBroker.has(id)) {
        report.missing.push(id);
        continue;
      }
      await this.setGroups(id, this.directory.groupsOf(id));
      report.updated++;
    }
    return report;
  }
}

/**
 * Gives the server's account the loa-server role (dynsec.ts, serverAcls), which its publishes on the devices' down
 * topics need (the admin role of `mosquitto_ctrl dynsec init` may subscribe to everything but publish only on
 * $CONTROL). Mosquitto disconnects a client whose roles change, the server's own too: done once, on the first start,
 * before the link subscribes or publishes anything; resolves once mqtt.js has reconnected.
 */
export async function ensureServerRole(dynsec: Dynsec, serverUsername: string): Promise<void> {
  await dynsec.must([{ command: 'createRole', rolename: SERVER_ROLE, acls: serverAcls() }], EXISTS);
  const [me] = await dynsec.must([{ command: 'getClient', username: serverUsername }]);
  if (!me.data?.client?.roles?.some((r: { rolename: string }) => r.rolename === SERVER_ROLE)) {
    await dynsec.runKickingMe({ command: 'addClientRole', username: serverUsername, rolename: SERVER_ROLE, priority: 10 });
  }
}
