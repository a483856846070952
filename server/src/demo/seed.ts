import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { CreateCluster } from '../../../schemas/api/clusters.ts';
import { FleetFileSchema, type FleetFile, type FleetMember } from '../../../schemas/fleet-file.ts';
import { systemActor } from '../shared/actor.ts';
import type { Services } from '../services.ts';
import { DEMO_COMMUNES, DEMO_OUTPUT_LABELS, DEMO_PROVINCE } from './demo-fleet.ts';

/** Small deterministic jitter so clusters of a hamlet do not sit on one point. */
const jitter = (seed: number) => ((Math.sin(seed * 12.9898) * 43758.5453) % 1) * 0.004;

function demoClusters(): CreateCluster[] {
  const out: CreateCluster[] = [];
  for (const c of DEMO_COMMUNES) {
    let n = 0;
    for (const h of c.hamlets) {
      for (let k = 0; k < h.clusters; k++) {
        n++;
        const num = String(n).padStart(2, '0');
        out.push({
          id: `${c.prefix}-${num}`,
          name: `Cụm loa ${c.name} ${num} – ${h.name.replace('Ấp ', '')}`,
          areaId: h.id,
          serial: `LX4-${c.prefix.toUpperCase()}-${String(n).padStart(4, '0')}`,
          model: 'LX-400',
          hardwareVersion: 'LX-RX4G rev C',
          firmwareVersion: '2.4.1',
          lat: +(h.lat + jitter(n * 7 + k)).toFixed(5),
          lon: +(h.lon + jitter(n * 13 + k)).toFixed(5),
          installedOn: '2025-08-15',
          outputs: DEMO_OUTPUT_LABELS.map((label, index) => ({ index, label, ratedW: 50 })),
        });
      }
    }
  }
  return out;
}

function readFleetFile(file: string): FleetFile | null {
  if (!existsSync(file)) return null;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8'));
    return Value.Check(FleetFileSchema, parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Seeds the demo hierarchy and clusters. Idempotent: what exists is kept. Device secrets are written to
 * LOA_DATA_DIR/demo-fleet.json (mode 0600) because the in-process simulator needs them; a cluster whose secret is
 * missing from that file gets a fresh one.
 */
export async function seedDemo(s: Services, mqttUrl: string, httpUrl: string): Promise<{ file: string; fleet: FleetFile; created: number }> {
  const actor = systemActor('demo-seed');
  if (!s.areas.exists(DEMO_PROVINCE.id)) await s.areas.create(DEMO_PROVINCE);
  for (const c of DEMO_COMMUNES) {
    if (!s.areas.exists(c.id)) await s.areas.create({ id: c.id, name: c.name, kind: 'commune', parentId: DEMO_PROVINCE.id });
    for (const h of c.hamlets) if (!s.areas.exists(h.id)) await s.areas.create({ id: h.id, name: h.name, kind: 'hamlet', parentId: c.id });
  }
  const wanted = demoClusters();
  const missing = wanted.filter((c) => !s.directory.has(c.id!));
  const secrets = new Map<string, string>();
  if (missing.length) for (const cred of await s.clusters.create(missing, actor)) secrets.set(cred.clusterId, cred.secret);

  const file = join(s.config.LOA_DATA_DIR, 'demo-fleet.json');
  for (const m of readFleetFile(file)?.clusters ?? []) if (!secrets.has(m.id) && s.directory.authenticate(m.id, m.secret)) secrets.set(m.id, m.secret);
  for (const c of wanted) if (!secrets.has(c.id!)) secrets.set(c.id!, (await s.clusters.rotateSecret(c.id!, actor)).secret);

  const members: FleetMember[] = wanted.map((c) => ({
    id: c.id!,
    secret: secrets.get(c.id!)!,
    name: c.name,
    serial: c.serial,
    model: c.model,
    hardware: c.hardwareVersion,
    firmware: c.firmwareVersion,
    outputs: c.outputs.map((o) => ({ index: o.index, label: o.label, ratedW: o.ratedW ?? undefined })),
  }));
  const fleet: FleetFile = { server: mqttUrl, http: httpUrl, clusters: members };
  writeFileSync(file, JSON.stringify(fleet, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return { file, fleet, created: missing.length };
}
