import type { Level } from '../../../schemas/device-protocol/playback.ts';
import type { AreasService } from '../areas/areas.service.ts';
import type { Actor } from '../shared/actor.ts';

export const APPROVAL_POLICIES = ['none', 'required', 'required-except-emergency'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];

/** The policy of an area is its own, or the nearest ancestor's; with none set anywhere, operators' bulletins need approval except emergencies. */
export function policyOf(areas: AreasService, areaId: string): ApprovalPolicy {
  for (const id of areas.ancestors(areaId).reverse()) {
    const p = areas.approvalPolicyOf(id);
    if (p) return p as ApprovalPolicy;
  }
  return 'required-except-emergency';
}

/** 'approved' (may air), 'pending' (waits for an approver) or 'bypassed' (emergency past a policy that would hold it). */
export function approvalFor(actor: Actor, level: Level, areaIds: string[], areas: AreasService): 'approved' | 'pending' | 'bypassed' {
  if (actor.role !== 'operator') return 'approved';
  const strictest = areaIds.map((a) => policyOf(areas, a));
  if (strictest.includes('required')) return level === 'emergency' ? 'bypassed' : 'pending';
  if (strictest.includes('required-except-emergency')) return level === 'emergency' ? 'approved' : 'pending';
  return 'approved';
}
