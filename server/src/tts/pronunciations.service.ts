import type { CreatePronunciation, Pronunciation, UpdatePronunciation } from '../../../schemas/api/pronunciations.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Actor } from '../shared/actor.ts';
import type { Clock } from '../shared/clock.ts';
import { badRequest, conflict, notFound } from '../shared/errors.ts';
import { newId } from '../shared/ids.ts';
import type { PronunciationRow, PronunciationsRepo } from './pronunciations.repo.ts';
import type { Reading } from './readings.ts';

/** A commune's list stays small enough to scan by eye and to match in one pattern on every keystroke. */
export const MAX_READINGS_PER_COMMUNE = 500;

/**
 * Each commune's own readings (cách đọc) of words the rules get wrong: a hamlet's name, a local word. An entry is
 * managed by an admin or operator who has the commune in scope; every change is audited.
 */
export class PronunciationsService {
  constructor(
    private repo: PronunciationsRepo,
    private areas: AreasService,
    private audit: AuditService,
    private clock: Clock,
  ) {}

  async list(communeId: string, actor: Actor, field = 'querystring/communeId'): Promise<Pronunciation[]> {
    return (await this.repo.list(this.commune(communeId, actor, field))).map(toApi);
  }

  async create(input: CreatePronunciation, actor: Actor): Promise<Pronunciation> {
    const communeId = this.commune(input.communeId, actor, 'body/communeId');
    const written = cleanWritten(input.written);
    const spoken = cleanSpoken(input.spoken);
    if (await this.repo.byWritten(communeId, written)) throw conflict(`"${written}" already has a reading in this commune; edit that one`, 'body/written');
    if ((await this.repo.count(communeId)) >= MAX_READINGS_PER_COMMUNE) throw conflict(`a commune keeps at most ${MAX_READINGS_PER_COMMUNE} readings`, 'body/written');
    const now = this.clock.now();
    const id = newId('pr');
    await this.repo.insert({ id, communeId, written, spoken, createdBy: actor.name, createdAt: now, updatedAt: now });
    await this.audit.record(actor, 'pronunciation.create', { type: 'pronunciation', id }, { communeId, written, spoken });
    return toApi((await this.repo.get(id))!);
  }

  async update(id: string, patch: UpdatePronunciation, actor: Actor): Promise<Pronunciation> {
    const row = await this.owned(id, actor);
    const written = patch.written !== undefined ? cleanWritten(patch.written) : row.written;
    const spoken = patch.spoken !== undefined ? cleanSpoken(patch.spoken) : row.spoken;
    const other = await this.repo.byWritten(row.communeId, written);
    if (other && other.id !== id) throw conflict(`"${written}" already has a reading in this commune; edit that one`, 'body/written');
    await this.repo.update(id, { written, spoken, updatedAt: this.clock.now() });
    await this.audit.record(actor, 'pronunciation.update', { type: 'pronunciation', id }, { communeId: row.communeId, before: { written: row.written, spoken: row.spoken }, after: { written, spoken } });
    return toApi((await this.repo.get(id))!);
  }

  async delete(id: string, actor: Actor): Promise<void> {
    const row = await this.owned(id, actor);
    await this.repo.delete(id);
    await this.audit.record(actor, 'pronunciation.delete', { type: 'pronunciation', id }, { communeId: row.communeId, written: row.written, spoken: row.spoken });
  }

  /**
   * The readings a synthesis uses: those of the named commune (or of the commune an area lies in); else of the one
   * commune a broadcast airs in (`airsIn`: its target areas; none when they span several); else of the actor's own
   * commune when exactly one is in their scope; else none.
   */
  async readingsFor(actor: Actor, areaId?: string, airsIn?: string[]): Promise<{ communeId: string | null; readings: Reading[] }> {
    const communeId =
      areaId !== undefined ? this.commune(areaId, actor, 'body/communeId')
      : airsIn?.length ? single(airsIn.map((a) => this.nearestCommune(a)))
      : this.onlyCommune(actor);
    return { communeId, readings: communeId ? (await this.repo.list(communeId)).map(({ written, spoken }) => ({ written, spoken })) : [] };
  }

  /** The commune an area is or lies in, if the actor may see it; 404 otherwise (no hint that it exists). */
  private commune(areaId: string, actor: Actor, field: string): string {
    if (!this.areas.exists(areaId) || !this.areas.inScope(actor.scope, areaId)) throw notFound('commune', field);
    const communeId = this.nearestCommune(areaId);
    if (!communeId) throw badRequest(`area ${areaId} is not a commune nor inside one`, field);
    return communeId;
  }

  private nearestCommune(areaId: string): string | null {
    return this.areas.ancestors(areaId).reverse().find((id) => this.areas.get(id).kind === 'commune') ?? null;
  }

  private onlyCommune(actor: Actor): string | null {
    return single(this.areas.list(actor.scope).map((a) => this.nearestCommune(a.id)).filter((c) => c !== null)); // a province in scope is not a commune of its own
  }

  private async owned(id: string, actor: Actor): Promise<PronunciationRow> {
    const row = await this.repo.get(id);
    if (!row || !this.areas.inScope(actor.scope, row.communeId)) throw notFound('reading', 'params/id');
    return row;
  }
}

/** The one commune of a list (a null is an area above any commune, which spans several), or null when there is none or several. */
function single(communes: (string | null)[]): string | null {
  const set = new Set(communes);
  return set.size === 1 ? [...set][0] : null;
}

const collapse = (s: string) => s.normalize('NFC').replace(/\s+/g, ' ').trim();

function cleanWritten(w: string): string {
  const s = collapse(w);
  if (!/[\p{L}\p{N}]/u.test(s)) throw badRequest('the written form needs at least one letter or digit', 'body/written');
  return s;
}

function cleanSpoken(w: string): string {
  const s = collapse(w);
  if (!/\p{L}/u.test(s)) throw badRequest('the reading needs at least one letter', 'body/spoken');
  return s;
}

function toApi(r: PronunciationRow): Pronunciation {
  return { id: r.id, communeId: r.communeId, written: r.written, spoken: r.spoken, createdBy: r.createdBy, createdAt: new Date(r.createdAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString() };
}
