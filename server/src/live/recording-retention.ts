import { systemActor } from '../shared/actor.ts';
import type { Services } from '../services.ts';

/**
 * Deletes the recordings of live and relayed airings older than LOA_RECORDING_RETENTION_DAYS, and their streams'
 * input switches. One a broadcast not yet over still needs is kept (the content service refuses) and tried again at
 * the next run.
 */
export async function pruneRecordings(s: Pick<Services, 'liveRepo' | 'content' | 'clock' | 'config'>): Promise<number> {
  const before = s.clock.now() - s.config.LOA_RECORDING_RETENTION_DAYS * 86_400_000;
  let n = 0;
  await s.liveRepo.forgetSwitchesBefore(before);
  for (const r of await s.liveRepo.recordingsBefore(before)) {
    try {
      await s.content.remove(r.contentId, systemActor('retention'));
    } catch {
      continue;
    }
    await s.liveRepo.forgetRecording(r.broadcastId, r.contentId);
    n++;
  }
  return n;
}
