import type { Area, AreaPolicy, CreateArea, SessionCap, UpdateArea } from '../../../schemas/api/areas.ts';
import { parseQuietHours, type QuietHours } from '../broadcasts/quiet-hours.ts';
import { badRequest, conflict, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import { checkPolicy } from './area-policy.ts';
import type { AreasRepo, AreaRow } from './areas.repo.ts';

/** The rules in force in an area: its own, else the nearest ancestor's, else the server's defaults. */
export interface EffectivePolicy {
  timeZone: string;
  quietHours: string;
  sessions: SessionCap[];
  /** quietHours read in timeZone; null when there are none */
  quiet: QuietHours | null;
}
export interface PolicyDefaults {
  timeZone: string;
  quietHours: string;
}

/** What a caller may see: every area, or the subtrees under the areas a user is assigned. */
export type Scope = 'all' | ReadonlySet<string>;

/**
 * The area tree, held in memory (a province has hundreds of areas, not millions) so scope checks and group
 * resolution on the MQTT hot path never touch the database.
 */
export class AreasService {
  private byId = new Map<string, AreaRow>();
  private children = new Map<string | null, string[]>();

  private policies = new Map<string, EffectivePolicy>();
  /** the tail of the writes in progress: each runs alone, so what it checked in memory still holds when it writes */
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private repo: AreasRepo,
    private defaults: PolicyDefaults = { timeZone: 'Asia/Ho_Chi_Minh', quietHours: '' },
    /** told when the rules in force in an area (and so beneath it) changed: its own, or what it inherits after a move */
    private onPolicyChanged: (areaId: string) => void = () => {},
    /** told after each write of the tree (other instances reload theirs: shared/instance-changes.ts) */
    private onChanged: () => void = () => {},
  ) {}

  /** Loads the tree into memory; once, before use (the registry's clusters are placed in it). */
  start(): Promise<void> {
    return this.reload();
  }

  /** Reads the tree again. Swapped in whole once read: readers never see it half loaded. */
  async reload(): Promise<void> {
    const rows = await this.repo.all();
    this.policies.clear();
    this.byId.clear();
    this.children.clear();
    for (const a of rows) {
      this.byId.set(a.id, a);
      const list = this.children.get(a.parentId) ?? [];
      list.push(a.id);
      this.children.set(a.parentId, list);
    }
  }

  private toArea(a: AreaRow): Area {
    return { id: a.id, name: a.name, code: a.code, kind: a.kind, parentId: a.parentId, level: this.ancestors(a.id).length - 1, approvalPolicy: (a.approvalPolicy as Area['approvalPolicy']) ?? null, policy: (a.policy as AreaPolicy | null) ?? null, effectivePolicy: this.effectiveOf(a.id) };
  }

  private effectiveOf(id: string) {
    const p = this.policy(id);
    return { timeZone: p.timeZone, quietHours: p.quietHours, sessions: p.sessions };
  }

  /** Each field from the area itself or its nearest ancestor that sets it; quiet hours "" (none) is a setting too. */
  policy(id: string): EffectivePolicy {
    let p = this.policies.get(id);
    if (p) return p;
    const chain = this.ancestors(id).reverse().map((a) => (this.byId.get(a)?.policy as AreaPolicy | null) ?? {});
    const pick = <K extends keyof AreaPolicy>(k: K): AreaPolicy[K] | undefined => chain.find((x) => x[k] !== undefined)?.[k];
    const timeZone = pick('timeZone') ?? this.defaults.timeZone;
    const quietHours = pick('quietHours') ?? this.defaults.quietHours;
    p = { timeZone, quietHours, sessions: pick('sessions') ?? [], quiet: parseQuietHours(quietHours, timeZone) };
    this.policies.set(id, p);
    return p;
  }

  list(scope: Scope): Area[] {
    return [...this.byId.values()].filter((a) => this.inScope(scope, a.id)).map((a) => this.toArea(a));
  }

  get(id: string, scope: Scope = 'all'): Area {
    const a = this.byId.get(id);
    if (!a || !this.inScope(scope, id)) throw notFound('area', 'params/id');
    return this.toArea(a);
  }

  /** The area's name for people (its id if it was removed since). */
  nameOf(id: string): string {
    return this.byId.get(id)?.name ?? id;
  }

  approvalPolicyOf(id: string): string | null {
    return this.byId.get(id)?.approvalPolicy ?? null;
  }

  exists(id: string): boolean {
    return this.byId.has(id);
  }

  /** Root first, the area itself last. */
  ancestors(id: string): string[] {
    const out: string[] = [];
    for (let cur = this.byId.get(id); cur; cur = cur.parentId ? this.byId.get(cur.parentId) : undefined) out.unshift(cur.id);
    return out;
  }

  /** The area and everything beneath it. */
  descendants(id: string): Set<string> {
    const out = new Set<string>();
    const stack = [id];
    while (stack.length) {
      const cur = stack.pop()!;
      if (out.has(cur)) continue;
      out.add(cur);
      stack.push(...(this.children.get(cur) ?? []));
    }
    return out;
  }

  /** Expands assigned roots into the full set of visible areas. */
  scopeOf(rootIds: string[] | 'all'): Scope {
    if (rootIds === 'all') return 'all';
    const out = new Set<string>();
    for (const r of rootIds) for (const d of this.descendants(r)) out.add(d);
    return out;
  }

  inScope(scope: Scope, areaId: string): boolean {
    return scope === 'all' || scope.has(areaId);
  }

  /**
   * Runs one write after those before it have finished. The checks against memory and the reload after the write
   * were one synchronous step when the database was; now the write is awaited, and two creations of the same id must
   * still see each other.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writing.then(fn);
    this.writing = run.catch(() => undefined);
    return run;
  }

  create(input: CreateArea): Promise<Area> {
    return this.exclusive(() => this.createNow(input));
  }

  private async createNow(input: CreateArea): Promise<Area> {
    const id = input.id ?? newId('ar', 8);
    if (this.byId.has(id)) throw conflict(`area ${id} already exists`, 'body/id');
    if (input.parentId && !this.byId.has(input.parentId)) throw badRequest(`parent area ${input.parentId} does not exist`, 'body/parentId');
    if (input.code && [...this.byId.values()].some((a) => a.code === input.code)) throw conflict(`area code ${input.code} is taken`, 'body/code');
    checkPolicy(input.policy);
    await this.repo.insert({ id, name: input.name, code: input.code ?? null, kind: input.kind, parentId: input.parentId ?? null, approvalPolicy: input.approvalPolicy ?? null, policy: input.policy ?? null });
    await this.reload();
    this.onChanged();
    return this.get(id);
  }

  update(id: string, patch: UpdateArea): Promise<Area> {
    return this.exclusive(() => this.updateNow(id, patch));
  }

  private async updateNow(id: string, patch: UpdateArea): Promise<Area> {
    const before = this.get(id);
    if (patch.parentId !== undefined && patch.parentId !== null) {
      if (!this.byId.has(patch.parentId)) throw badRequest(`parent area ${patch.parentId} does not exist`, 'body/parentId');
      if (this.descendants(id).has(patch.parentId)) throw badRequest('an area cannot move beneath itself', 'body/parentId');
    }
    checkPolicy(patch.policy);
    await this.repo.update(id, patch);
    await this.reload();
    this.onChanged();
    const after = this.get(id);
    if (JSON.stringify([before.policy, before.effectivePolicy]) !== JSON.stringify([after.policy, after.effectivePolicy])) this.onPolicyChanged(id);
    return after;
  }

  delete(id: string): Promise<void> {
    return this.exclusive(() => this.deleteNow(id));
  }

  private async deleteNow(id: string): Promise<void> {
    this.get(id);
    if ((this.children.get(id) ?? []).length) throw conflict('area has child areas; delete or move them first');
    try {
      await this.repo.delete(id);
    } catch {
      throw conflict('area still has clusters; move or delete them first');
    }
    await this.reload();
    this.onChanged();
  }
}
