import type { Cluster, ClusterDetail, ClusterQuery, CreateCluster, IssuedCredential, UpdateCluster } from '../../../schemas/api/clusters.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { HealthStore, ClusterHealth } from '../health/health.store.ts';
import type { Actor } from '../shared/actor.ts';
import type { Bus } from '../shared/bus.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, badRequest, conflict, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { ClusterRow, ClustersRepo, OutputRow } from './clusters.repo.ts';
import { hashDeviceSecret, newDeviceSecret } from './credentials.ts';
import type { DeviceDirectory } from './directory.ts';

/** One collator for every listing: localeCompare(…, 'vi') builds one per call, 120 ms per 10,000-cluster sort. */
const byName = new Intl.Collator('vi', { numeric: true });
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function healthView(h: ClusterHealth | undefined) {
  return {
    online: h?.online ?? false,
    lastSeen: iso(h?.lastSeen ?? null),
    changedAt: iso(h?.changedAt ?? null),
    onBattery: h?.telemetry?.backup.active ?? false,
    faults: h?.faults ?? [],
    malformedCount: h?.malformedCount ?? 0,
  };
}

/** The fleet registry: clusters, their speaker outputs and their MQTT credentials. */
export class ClustersService {
  private rows = new Map<string, ClusterRow>();
  private outputs = new Map<string, OutputRow[]>();
  private revoked = new Set<string>();
  private serials = new Map<string, string>();
  /** the tail of the writes in progress: each runs alone, so what it checked in memory still holds when it writes */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private repo: ClustersRepo,
    private areas: AreasService,
    private directory: DeviceDirectory,
    private health: HealthStore,
    private audit: AuditService,
    private bus: Bus,
    private clock: Clock,
  ) {}

  /** Loads the registry into memory (and the clusters' latest state into the health store); once, before use. */
  async start(): Promise<void> {
    for (const r of await this.repo.all()) this.remember(r);
    for (const o of await this.repo.outputs()) this.outputs.set(o.clusterId, [...(this.outputs.get(o.clusterId) ?? []), o]);
    for (const c of await this.repo.credentials()) {
      const row = this.rows.get(c.clusterId);
      if (!row) continue;
      if (!c.secretHash) this.revoked.add(c.clusterId);
      this.directory.set(c.clusterId, { areaId: row.areaId, secretHash: c.secretHash, customGroups: [] });
    }
    this.health.load(await this.repo.states());
  }

  /**
   * Runs one write after those before it have finished. The checks against memory and the memory update after the
   * write were one synchronous step when the database was; now the write is awaited, and two imports of the same
   * serial, or an update racing a delete, must still see each other.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writing.then(fn);
    this.writing = run.catch(() => undefined);
    return run;
  }

  /**
   * Another instance changed these clusters (shared/instance-changes.ts), or all of them when `ids` is null: memory
   * follows the database. In turn with this instance's own writes.
   */
  refresh(ids: string[] | null): Promise<void> {
    return this.exclusive(async () => {
      const wanted = ids ?? [...new Set([...this.rows.keys(), ...(await this.repo.all()).map((r) => r.id)])];
      const creds = new Map((await this.repo.credentials()).map((c) => [c.clusterId, c]));
      const outputs = await this.repo.outputs(wanted);
      for (const id of wanted) {
        const row = await this.repo.get(id);
        if (!row) {
          const old = this.rows.get(id);
          if (old) this.serials.delete(old.serial);
          this.rows.delete(id);
          this.outputs.delete(id);
          this.revoked.delete(id);
          this.directory.delete(id);
          this.health.delete(id);
          continue;
        }
        this.remember(row);
        this.outputs.set(id, outputs.filter((o) => o.clusterId === id));
        const secretHash = creds.get(id)?.secretHash ?? null;
        if (secretHash) this.revoked.delete(id);
        else this.revoked.add(id);
        if (this.directory.has(id)) this.directory.patch(id, { areaId: row.areaId, secretHash });
        else this.directory.set(id, { areaId: row.areaId, secretHash, customGroups: [] });
        this.health.get(id);
      }
    });
  }

  private async reread(id: string): Promise<void> {
    const r = await this.repo.get(id);
    if (r) this.remember(r);
  }

  private remember(r: ClusterRow): void {
    const old = this.rows.get(r.id);
    if (old) this.serials.delete(old.serial);
    this.rows.set(r.id, r);
    this.serials.set(r.serial, r.id);
  }

  private view(r: ClusterRow): Cluster {
    return {
      id: r.id,
      name: r.name,
      areaId: r.areaId,
      serial: r.serial,
      model: r.model,
      hardwareVersion: r.hardwareVersion,
      firmwareVersion: r.firmwareVersion,
      lat: r.lat,
      lon: r.lon,
      installedOn: r.installedOn,
      notes: r.notes,
      outputs: (this.outputs.get(r.id) ?? []).map((o) => ({ index: o.index, label: o.label, ratedW: o.ratedW })),
      credential: this.revoked.has(r.id) ? 'revoked' : 'active',
      health: healthView(this.health.peek(r.id)),
    };
  }

  private row(id: string, actor: Actor): ClusterRow {
    const r = this.rows.get(id);
    if (!r || !this.areas.inScope(actor.scope, r.areaId)) throw notFound('cluster', 'params/id');
    return r;
  }

  list(q: ClusterQuery, actor: Actor): { items: Cluster[]; total: number } {
    const inArea = q.areaId ? this.areas.descendants(q.areaId) : null;
    const needle = q.q?.toLocaleLowerCase('vi');
    const matches: ClusterRow[] = [];
    for (const r of this.rows.values()) {
      if (!this.areas.inScope(actor.scope, r.areaId)) continue;
      if (inArea && !inArea.has(r.areaId)) continue;
      const h = this.health.peek(r.id);
      if (q.online !== undefined && (h?.online ?? false) !== q.online) continue;
      if (q.fault !== undefined && (h?.faults.length ?? 0) > 0 !== q.fault) continue;
      if (needle && !`${r.name} ${r.serial} ${r.id}`.toLocaleLowerCase('vi').includes(needle)) continue;
      matches.push(r);
    }
    matches.sort((a, b) => byName.compare(a.name, b.name));
    const offset = q.offset ?? 0;
    return { items: matches.slice(offset, offset + (q.limit ?? 1000)).map((r) => this.view(r)), total: matches.length };
  }

  get(id: string, actor: Actor): ClusterDetail {
    const r = this.row(id, actor);
    const h = this.health.peek(id);
    return {
      ...this.view(r),
      telemetry: h?.telemetry ?? null,
      telemetryAt: iso(h?.telemetryAt ?? null),
      birth: h?.birth ?? null,
      groups: this.directory.groupsOf(id),
    };
  }

  /** Whole-import validation happens before the first write, so a bad row leaves nothing behind. */
  create(inputs: CreateCluster[], actor: Actor, lines?: number[]): Promise<IssuedCredential[]> {
    return this.exclusive(() => this.createNow(inputs, actor, lines));
  }

  private async createNow(inputs: CreateCluster[], actor: Actor, lines?: number[]): Promise<IssuedCredential[]> {
    const seenIds = new Set<string>();
    const seenSerials = new Set<string>();
    const errors: { line: number; field: string; message: string }[] = [];
    inputs.forEach((c, i) => {
      const line = lines?.[i] ?? i + 1;
      if (!this.areas.exists(c.areaId) || !this.areas.inScope(actor.scope, c.areaId)) errors.push({ line, field: 'areaId', message: `area ${c.areaId} does not exist` });
      if (c.id && (this.rows.has(c.id) || seenIds.has(c.id))) errors.push({ line, field: 'id', message: `cluster id ${c.id} is taken` });
      if (this.serials.has(c.serial) || seenSerials.has(c.serial)) errors.push({ line, field: 'serial', message: `serial ${c.serial} is already registered` });
      const idx = c.outputs.map((o) => o.index);
      if (new Set(idx).size !== idx.length) errors.push({ line, field: 'outputs', message: 'output indexes must be unique' });
      if (c.id) seenIds.add(c.id);
      seenSerials.add(c.serial);
    });
    if (errors.length) {
      const e = errors[0];
      const many = inputs.length > 1;
      throw new AppError(many ? 422 : e.field === 'id' || e.field === 'serial' ? 409 : 400, many ? `line ${e.line}: ${e.field}: ${e.message}` : e.message, many ? 'body' : `body/${e.field}`, errors);
    }
    const now = this.clock.now();
    const issued: IssuedCredential[] = [];
    const rows = inputs.map((c) => {
      const id = c.id ?? newId('cl');
      const secret = newDeviceSecret();
      issued.push({ clusterId: id, username: id, secret });
      return {
        cluster: { id, areaId: c.areaId, name: c.name, serial: c.serial, model: c.model ?? null, hardwareVersion: c.hardwareVersion ?? null, firmwareVersion: c.firmwareVersion ?? null, lat: c.lat ?? null, lon: c.lon ?? null, installedOn: c.installedOn ?? null, notes: c.notes ?? null, createdAt: now },
        outputs: c.outputs.map((o) => ({ clusterId: id, index: o.index, label: o.label, ratedW: o.ratedW ?? null })),
        secretHash: hashDeviceSecret(secret),
        issuedAt: now,
      };
    });
    await this.repo.insertMany(rows);
    // Read back first, then shown in one step: a listing never sees half an import.
    const stored: (ClusterRow | null)[] = [];
    for (const r of rows) stored.push(await this.repo.get(r.cluster.id));
    for (const [i, r] of rows.entries()) {
      const row = stored[i];
      if (row) this.remember(row);
      this.outputs.set(r.cluster.id, r.outputs);
      this.directory.set(r.cluster.id, { areaId: r.cluster.areaId, secretHash: r.secretHash, customGroups: [] });
      this.health.get(r.cluster.id);
    }
    await this.audit.record(actor, inputs.length > 1 ? 'cluster.import' : 'cluster.create', { type: 'cluster', id: inputs.length > 1 ? null : rows[0].cluster.id }, { ids: rows.map((r) => r.cluster.id) });
    for (const c of issued) this.bus.emit('device.credential_issued', { clusterId: c.clusterId, secret: c.secret });
    this.bus.emit('registry.changed', { clusterIds: rows.map((r) => r.cluster.id) });
    return issued;
  }

  update(id: string, patch: UpdateCluster, actor: Actor): Promise<ClusterDetail> {
    return this.exclusive(() => this.updateNow(id, patch, actor));
  }

  private async updateNow(id: string, patch: UpdateCluster, actor: Actor): Promise<ClusterDetail> {
    this.row(id, actor);
    if (patch.areaId && (!this.areas.exists(patch.areaId) || !this.areas.inScope(actor.scope, patch.areaId))) throw badRequest(`area ${patch.areaId} does not exist`, 'body/areaId');
    if (patch.serial && (this.serials.get(patch.serial) ?? id) !== id) throw conflict(`serial ${patch.serial} is already registered`, 'body/serial');
    const { outputs, ...fields } = patch;
    const outRows = outputs?.map((o) => ({ clusterId: id, index: o.index, label: o.label, ratedW: o.ratedW ?? null }));
    await this.repo.update(id, { ...fields, updatedAt: this.clock.now() }, outRows);
    await this.reread(id);
    if (outRows) this.outputs.set(id, outRows);
    if (patch.areaId) this.directory.patch(id, { areaId: patch.areaId });
    await this.audit.record(actor, 'cluster.update', { type: 'cluster', id }, patch);
    this.bus.emit('registry.changed', { clusterIds: [id] });
    return this.get(id, actor);
  }

  delete(id: string, actor: Actor): Promise<void> {
    return this.exclusive(() => this.deleteNow(id, actor));
  }

  private async deleteNow(id: string, actor: Actor): Promise<void> {
    this.row(id, actor);
    await this.repo.delete(id);
    this.serials.delete(this.rows.get(id)!.serial);
    this.rows.delete(id);
    this.outputs.delete(id);
    this.directory.delete(id);
    this.health.delete(id);
    await this.audit.record(actor, 'cluster.delete', { type: 'cluster', id });
    this.bus.emit('device.revoked', { clusterId: id });
  }

  rotateSecret(id: string, actor: Actor): Promise<IssuedCredential> {
    return this.exclusive(() => this.rotateSecretNow(id, actor));
  }

  private async rotateSecretNow(id: string, actor: Actor): Promise<IssuedCredential> {
    this.row(id, actor);
    const secret = newDeviceSecret();
    const hash = hashDeviceSecret(secret);
    await this.repo.setCredential(id, hash, this.clock.now(), false);
    this.directory.patch(id, { secretHash: hash });
    this.revoked.delete(id);
    await this.audit.record(actor, 'cluster.secret.rotate', { type: 'cluster', id });
    this.bus.emit('device.credential_issued', { clusterId: id, secret });
    // A session opened with the old secret must not outlive it.
    this.bus.emit('device.revoked', { clusterId: id });
    return { clusterId: id, username: id, secret };
  }

  revoke(id: string, actor: Actor): Promise<void> {
    return this.exclusive(() => this.revokeNow(id, actor));
  }

  private async revokeNow(id: string, actor: Actor): Promise<void> {
    this.row(id, actor);
    await this.repo.setCredential(id, null, this.clock.now(), true);
    this.directory.patch(id, { secretHash: null });
    this.revoked.add(id);
    await this.audit.record(actor, 'cluster.secret.revoke', { type: 'cluster', id });
    this.bus.emit('device.revoked', { clusterId: id });
  }

  /**
   * A birth message says which firmware the box runs: the registry keeps it, so the cluster record shows what is
   * installed rather than what was typed in at import. Written only when it changed (a birth comes on every connect).
   */
  reportFirmware(id: string, firmwareVersion: string): Promise<void> {
    // Compared before queueing as well: a birth on every reconnect of 10,000 clusters must not queue 10,000 no-ops.
    const known = this.rows.get(id);
    if (!known || known.firmwareVersion === firmwareVersion) return Promise.resolve();
    return this.exclusive(async () => {
      const r = this.rows.get(id);
      if (!r || r.firmwareVersion === firmwareVersion) return;
      await this.repo.update(id, { firmwareVersion, updatedAt: this.clock.now() });
      await this.reread(id);
    });
  }

  /** Whether the cluster is connected now. */
  online(id: string): boolean {
    return this.health.peek(id)?.online ?? false;
  }
  /** The cluster's name for people (its id if it was removed since). */
  nameOf(id: string): string {
    return this.rows.get(id)?.name ?? id;
  }
  /** When an offline cluster was last connected: its last change of presence, else the last message heard. */
  offlineSince(id: string): number | null {
    const h = this.health.peek(id);
    if (!h || h.online) return null;
    return h.changedAt ?? h.lastSeen;
  }
  /** Outputs per cluster, for roll-ups. */
  outputCount(id: string): number {
    return this.outputs.get(id)?.length ?? 0;
  }
  areaOf(id: string): string | undefined {
    return this.rows.get(id)?.areaId;
  }
  allIds(): string[] {
    return [...this.rows.keys()];
  }
}
