import { and, asc, eq } from 'drizzle-orm';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFfmpeg } from '../../server/src/content/ffmpeg.ts';
import type { TestServer } from './server.ts';

/** Uploads a sine tone of `seconds` through the real multipart route; returns the content id. */
export async function uploadTone(srv: TestServer, seconds: number, hz = 440): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'loa-tone-'));
  const file = join(dir, `tone-${seconds}s-${hz}.wav`);
  const run = await runFfmpeg(['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${hz}:duration=${seconds}`, '-af', 'volume=0.3', file]);
  if (run.code !== 0) throw new Error(run.stderr);
  const form = new FormData();
  form.append('file', new Blob([readFileSync(file)], { type: 'audio/wav' }), `tone-${seconds}s.wav`);
  const res = await fetch(`${srv.httpUrl}/api/content`, { method: 'POST', body: form, headers: { authorization: `Bearer ${srv.token}` } });
  const body = await res.json();
  if (res.status !== 201) throw new Error('upload failed: ' + JSON.stringify(body));
  return body.id;
}

export type ReportRow = { cluster_id: string; seq: number; state: string; server_ts: number; reason: string | null; position_ms: number | null };

/** Proof-of-play reports as the server stored them, oldest first (in the order they were received). */
export async function reports(srv: TestServer, broadcastId: string, state?: string): Promise<ReportRow[]> {
  const db = srv.app.loa.db;
  const r = db.t.airingReports;
  const rows = await db.run(undefined, (q) =>
    q
      .select({ cluster_id: r.clusterId, seq: r.seq, state: r.state, server_ts: r.serverTs, reason: r.reason, position_ms: r.positionMs })
      .from(r)
      .where(state ? and(eq(r.broadcastId, broadcastId), eq(r.state, state)) : eq(r.broadcastId, broadcastId))
      .orderBy(asc(r.serverTs), asc(r.receivedAt)),
  );
  return rows as ReportRow[]; // server_ts is set on every stored report
}
