/**
 * Retention of what live airings leave behind (LOA_RECORDING_RETENTION_DAYS): recordings older than it are deleted
 * from the content library, and so is the input-switch log of their streams; newer ones stay.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pruneRecordings } from '../server/src/live/recording-retention.ts';
import { uploadTone } from './helpers/broadcast.ts';
import { startServer, type TestServer } from './helpers/server.ts';

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ LOA_RECORDING_RETENTION_DAYS: '30' });
}, 60_000);
afterAll(() => srv?.close());

it('deletes recordings and switch logs past the retention, and keeps the rest', async () => {
  const s = srv.app.loa.services;
  const day = 86_400_000;
  const now = s.clock.now();
  const [old, fresh] = [await uploadTone(srv, 1, 440), await uploadTone(srv, 1, 660)];
  await s.liveRepo.addRecording('bc-old', old, now - 31 * day);
  await s.liveRepo.addRecording('bc-new', fresh, now - 29 * day);
  const sw = (at: number, to: string) => ({ at: new Date(at).toISOString(), from: 'primary', to, reason: 'stalled' });
  await s.liveRepo.addSwitch('bc-old', sw(now - 31 * day, 'backup 1'));
  await s.liveRepo.addSwitch('bc-new', sw(now - 29 * day, 'backup 1'));
  await s.liveRepo.addSwitch('bc-new', sw(now - 29 * day + 5000, 'filler'));

  expect(await pruneRecordings(s)).toBe(1);
  expect((await srv.api('GET', `/api/content/${old}`)).status).toBe(404);
  expect((await srv.api('GET', `/api/content/${fresh}`)).status).toBe(200);
  expect(await s.liveRepo.recordingOf('bc-old')).toBeNull();
  expect(await s.liveRepo.recordingOf('bc-new')).toBe(fresh);
  expect(await s.liveRepo.switchesOf('bc-old')).toEqual([]);
  expect((await s.liveRepo.switchesOf('bc-new')).map((x) => x.to)).toEqual(['backup 1', 'filler']);
  // Run again: nothing more to do.
  expect(await pruneRecordings(s)).toBe(0);
}, 60_000);
