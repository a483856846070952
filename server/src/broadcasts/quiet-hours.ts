/**
 * Quiet hours (giờ không phát): a daily local-time window in which only emergencies air, e.g. "21:00-05:00".
 * Communes set them by the clock on the wall, so they are read in the station's time zone, not UTC.
 */
export interface QuietHours {
  /** true when the instant falls inside the window */
  covers(ms: number): boolean;
  label: string;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function parseQuietHours(spec: string, timeZone: string): QuietHours | null {
  if (!spec) return null;
  const [from, to] = spec.split('-');
  const a = HHMM.exec(from ?? '');
  const b = HHMM.exec(to ?? '');
  if (!a || !b) throw new Error(`quiet hours "${spec}" must look like 21:00-05:00`);
  const start = +a[1] * 60 + +a[2];
  const end = +b[1] * 60 + +b[2];
  const fmt = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const minuteOfDay = (ms: number) => {
    const [h, m] = fmt.format(ms).split(':').map(Number);
    return h * 60 + m;
  };
  return {
    label: `${from}–${to} (${timeZone})`,
    covers(ms) {
      const t = minuteOfDay(ms);
      return start <= end ? t >= start && t < end : t >= start || t < end;
    },
  };
}
