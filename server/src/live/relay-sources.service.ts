import type { RelaySource, RelaySourceInput, RelaySourcePatch, StreamStatus } from '../../../schemas/api/live.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Actor } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';
import { AppError, badRequest, conflict, forbidden, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { LiveRepo, RelaySourceRow } from './live.repo.ts';

const EDITORS = new Set(['admin', 'operator', 'approver', 'system']);
const DEFAULT_STALL_S = 5;
const DEFAULT_RETRY_S = 30;

/** What the sources need from the rest: content checks, what runs now, what still airs a source. */
export interface SourceLinks {
  /** rejects unless the content can air */
  fillerPlayable(contentId: string): Promise<unknown>;
  status(sourceId: string): StreamStatus | null;
  /** broadcasts or programmes not yet over that relay this source */
  usedBy(sourceId: string): Promise<string[]>;
}

/**
 * Named upstreams per area ("VOV1", "Đài tỉnh"). A source defined on a province serves every commune beneath it:
 * an operator sees the sources of their areas and of the areas above them, and edits only those of their own areas.
 */
export class RelaySourcesService {
  constructor(
    private repo: LiveRepo,
    private areas: AreasService,
    private audit: AuditService,
    private clock: Clock,
    private links: SourceLinks,
  ) {}

  async list(actor: Actor, areaId?: string): Promise<RelaySource[]> {
    return (await this.repo.sources())
      .filter((r) => this.visible(r.areaId, actor))
      .filter((r) => !areaId || this.areas.ancestors(areaId).includes(r.areaId))
      .map((r) => this.view(r));
  }

  async get(id: string, actor: Actor): Promise<RelaySource> {
    return this.view(await this.load(id, actor));
  }

  /** The stored row, for the stream runner (no actor: the system airs what was approved). */
  row(id: string): Promise<RelaySourceRow | undefined> {
    return this.repo.source(id);
  }

  async create(input: RelaySourceInput, actor: Actor): Promise<RelaySource> {
    this.mayEdit(input.areaId, actor, 'body/areaId');
    if (input.fillerContentId) await this.links.fillerPlayable(input.fillerContentId);
    const now = this.clock.now();
    const row: RelaySourceRow = {
      id: newId('rs'),
      areaId: input.areaId,
      name: input.name.trim(),
      primaryUrl: input.primaryUrl,
      backupUrls: input.backupUrls ?? [],
      fillerContentId: input.fillerContentId ?? null,
      stallS: input.stallS ?? DEFAULT_STALL_S,
      retryS: input.retryS ?? DEFAULT_RETRY_S,
      createdAt: now,
      updatedAt: now,
    };
    if (!row.name) throw badRequest('the name is empty', 'body/name');
    await this.repo.insertSource(row);
    await this.audit.record(actor, 'relay_source.create', { type: 'relay_source', id: row.id }, { name: row.name, areaId: row.areaId });
    return this.view(row);
  }

  async update(id: string, patch: RelaySourcePatch, actor: Actor): Promise<RelaySource> {
    const row = await this.load(id, actor);
    this.mayEdit(row.areaId, actor, 'params/id');
    if (patch.fillerContentId) await this.links.fillerPlayable(patch.fillerContentId);
    const next: Partial<RelaySourceRow> = { updatedAt: this.clock.now() };
    if (patch.name !== undefined) next.name = patch.name.trim();
    if (next.name === '') throw badRequest('the name is empty', 'body/name');
    if (patch.primaryUrl !== undefined) next.primaryUrl = patch.primaryUrl;
    if (patch.backupUrls !== undefined) next.backupUrls = patch.backupUrls;
    if (patch.fillerContentId !== undefined) next.fillerContentId = patch.fillerContentId;
    if (patch.stallS !== undefined) next.stallS = patch.stallS;
    if (patch.retryS !== undefined) next.retryS = patch.retryS;
    await this.repo.updateSource(id, next);
    await this.audit.record(actor, 'relay_source.update', { type: 'relay_source', id }, patch);
    return this.view((await this.repo.source(id))!);
  }

  async delete(id: string, actor: Actor): Promise<void> {
    const row = await this.load(id, actor);
    this.mayEdit(row.areaId, actor, 'params/id');
    const used = await this.links.usedBy(id);
    if (used.length) throw conflict(`the source is relayed by ${used.length} broadcast(s) or programme(s) not yet over: ${used.slice(0, 5).join(', ')}`, 'params/id');
    await this.repo.deleteSource(id);
    await this.audit.record(actor, 'relay_source.delete', { type: 'relay_source', id }, { name: row.name });
  }

  /** A broadcast to `areaIds` may relay the source when the source's area is one of them or above them. */
  async checkUsable(id: string, areaIds: string[], actor: Actor, field: string): Promise<RelaySourceRow> {
    const row = await this.repo.source(id);
    if (!row || !this.visible(row.areaId, actor)) throw notFound('relay source', field);
    const outside = areaIds.filter((a) => !this.areas.ancestors(a).includes(row.areaId));
    if (outside.length) throw badRequest(`source ${row.name} belongs to ${this.areas.nameOf(row.areaId)} and cannot be relayed to ${outside.map((a) => this.areas.nameOf(a)).join(', ')}`, field);
    return row;
  }

  private async load(id: string, actor: Actor): Promise<RelaySourceRow> {
    const row = await this.repo.source(id);
    if (!row || !this.visible(row.areaId, actor)) throw notFound('relay source', 'params/id');
    return row;
  }

  /** Its own areas, and the areas above them: a commune relays its province's station. */
  private visible(areaId: string, actor: Actor): boolean {
    if (actor.scope === 'all' || this.areas.inScope(actor.scope, areaId)) return true;
    for (const a of actor.scope) if (this.areas.ancestors(a).includes(areaId)) return true;
    return false;
  }

  private mayEdit(areaId: string, actor: Actor, field: string): void {
    if (!EDITORS.has(actor.role)) throw forbidden('only operators, approvers and admins manage relay sources');
    if (!this.areas.inScope(actor.scope, areaId)) throw new AppError(403, `area ${areaId} is outside your areas`, field);
  }

  private view(r: RelaySourceRow): RelaySource {
    return {
      id: r.id,
      areaId: r.areaId,
      areaName: this.areas.nameOf(r.areaId),
      name: r.name,
      primaryUrl: r.primaryUrl,
      backupUrls: r.backupUrls,
      fillerContentId: r.fillerContentId,
      stallS: r.stallS,
      retryS: r.retryS,
      createdAt: new Date(r.createdAt).toISOString(),
      updatedAt: new Date(r.updatedAt).toISOString(),
      live: this.links.status(r.id),
    };
  }
}
