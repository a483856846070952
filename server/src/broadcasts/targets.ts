import type { Targets } from '../../../schemas/api/broadcasts.ts';
import { areaGroupId } from '../../../schemas/device-protocol/topics.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { ClustersService } from '../devices/clusters.service.ts';
import type { RollupService } from '../health/rollup.service.ts';
import type { Actor } from '../shared/actor.ts';
import { badRequest } from '../shared/errors.ts';

export interface ResolvedTargets {
  /** every targeted cluster with its outputs (null = all) */
  clusters: Map<string, number[] | null>;
  /** area groups whose every cluster is targeted on all outputs: one group publish reaches them */
  groups: string[];
  /** clusters not covered by a group publish: they get their order on their own manifest topic */
  direct: string[];
  areaIds: string[];
}

/** Turns areas, clusters and single speaker outputs into the clusters to reach and the cheapest way to reach them. */
export function resolveTargets(t: Targets, actor: Actor, areas: AreasService, clusters: ClustersService, rollup: RollupService): ResolvedTargets {
  const out = new Map<string, number[] | null>();
  const covered = new Set<string>();
  const groups: string[] = [];
  (t.areaIds ?? []).forEach((areaId, i) => {
    if (!areas.exists(areaId) || !areas.inScope(actor.scope, areaId)) throw badRequest(`area ${areaId} does not exist`, `body/targets/areaIds/${i}`);
    // An area inside another targeted area adds nothing.
    if ((t.areaIds ?? []).some((other) => other !== areaId && areas.descendants(other).has(areaId))) return;
    groups.push(areaGroupId(areaId));
    for (const id of rollup.clustersUnder(areaId)) {
      out.set(id, null);
      covered.add(id);
    }
  });
  (t.clusterIds ?? []).forEach((id, i) => {
    const area = clusters.areaOf(id);
    if (!area || !areas.inScope(actor.scope, area)) throw badRequest(`cluster ${id} does not exist`, `body/targets/clusterIds/${i}`);
    out.set(id, null);
  });
  (t.outputs ?? []).forEach((o, i) => {
    const area = clusters.areaOf(o.clusterId);
    if (!area || !areas.inScope(actor.scope, area)) throw badRequest(`cluster ${o.clusterId} does not exist`, `body/targets/outputs/${i}/clusterId`);
    if (out.get(o.clusterId) === null) return; // already targeted whole
    const n = clusters.outputCount(o.clusterId);
    const bad = o.outputs.find((x) => x >= n);
    if (bad !== undefined) throw badRequest(`cluster ${o.clusterId} has no output ${bad}`, `body/targets/outputs/${i}/outputs`);
    out.set(o.clusterId, [...new Set([...(out.get(o.clusterId) ?? []), ...o.outputs])].sort());
  });
  if (!out.size) throw badRequest('no cluster is targeted', 'body/targets');
  const direct = [...out.keys()].filter((id) => !covered.has(id));
  const areaIds = [...new Set([...out.keys()].map((id) => clusters.areaOf(id)!))];
  return { clusters: out, groups, direct, areaIds };
}

/** The areas a broadcast's targets lie in, for scope checks and area filters. */
export function targetAreas(t: Targets, clusters: ClustersService): string[] {
  const ids = [...(t.clusterIds ?? []), ...(t.outputs ?? []).map((o) => o.clusterId)];
  return [...(t.areaIds ?? []), ...ids.map((c) => clusters.areaOf(c) ?? '')];
}
