import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo } from '../server/src/demo/start-demo.ts';
import { startServer, waitFor, type TestServer } from './helpers/server.ts';
import { reports as reportsOf, uploadTone as uploadToneTo } from './helpers/broadcast.ts';

/**
 * Broadcasts end to end with real parts: the demo commune's 34 simulated clusters over MQTT, content fetched over
 * HTTP and verified, ffmpeg transcoding, espeak-ng speech. Every assertion about airing is checked through the
 * server's proof-of-play records, never through what the API claims it sent.
 */
let srv: TestServer;
let demo: Awaited<ReturnType<typeof startDemo>>;
const DT = 'dong-thanh';

const uploadTone = (seconds: number) => uploadToneTo(srv, seconds);
const broadcast = async (id: string) => (await srv.api('GET', `/api/broadcasts/${id}`)).body;
const reports = async (broadcastId: string, state?: string) => (await reportsOf(srv, broadcastId, state));

beforeAll(async () => {
  srv = await startServer({ LOA_SYNC_LEAD_MS: '1500' });
  demo = await startDemo(srv.app, srv.mqttPort, Number(new URL(srv.httpUrl).port));
  await demo.fleet.waitOnline(20_000);
}, 60_000);
afterAll(async () => {
  await demo?.stop();
  await srv?.close();
});

describe('emergency to a whole commune', () => {
  it('preempts the normal programme on all 18 clusters of Đồng Thạnh, which resumes afterwards', async () => {
    // The officer listens to the warning before sending it: the speech is synthesised (and cached) now, so the
    // emergency below is sent at once and finds the normal programme airing even on a loaded machine (synthesis
    // under load took longer than the programme, and then there was nothing to preempt).
    const text = 'Bão số 5 đang tiến vào xã Đồng Thạnh. Bà con khẩn trương chằng chống nhà cửa.';
    expect((await srv.api('POST', '/api/tts/preview', { text })).status).toBe(201);
    const tone = await uploadTone(15);
    const normal = await srv.api('POST', '/api/broadcasts', { title: 'Chương trình thường', level: 'normal', source: { contentId: tone }, targets: { areaIds: [DT] }, onPreempt: 'resume' });
    expect(normal.status).toBe(201);
    expect(normal.body.state).toBe('scheduled');
    await waitFor(async () => (await broadcast(normal.body.id)).delivery.started === 18, 20_000, 100);

    const emergency = await srv.api('POST', '/api/broadcasts', {
      title: 'Cảnh báo bão khẩn cấp',
      level: 'emergency',
      source: { tts: { text } },
      targets: { areaIds: [DT] },
    });
    expect(emergency.status).toBe(201);
    const e = await waitFor(async () => {
      const b = await broadcast(emergency.body.id);
      return b.delivery.finished === 18 ? b : null;
    }, 40_000, 200);
    expect(e.delivery).toMatchObject({ targeted: 18, received: 18, started: 18, finished: 18, failed: 0 });
    // Only Đồng Thạnh: Bình Phú's 16 clusters never heard it.
    expect(new Set((await reports(emergency.body.id)).map((r) => r.cluster_id)).size).toBe(18);
    expect((await reports(emergency.body.id)).every((r) => r.cluster_id.startsWith('dt-'))).toBe(true);

    const interrupted = (await reports(normal.body.id, 'interrupted'));
    const resumed = (await reports(normal.body.id, 'resumed'));
    expect(new Set(interrupted.map((r) => r.cluster_id)).size).toBe(18);
    expect(new Set(resumed.map((r) => r.cluster_id)).size).toBe(18);
    await waitFor(async () => (await broadcast(normal.body.id)).delivery.finished === 18, 20_000, 200);
    const resumeAt = Object.fromEntries(resumed.map((r) => [r.cluster_id, r]));
    for (const i of interrupted) expect(resumeAt[i.cluster_id].position_ms).toBe(i.position_ms);
  }, 90_000);
});
