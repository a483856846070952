/**
 * The one typed API client. Types come from the server's TypeBox contracts in schemas/ (type-only imports: no
 * TypeBox code reaches the bundle). The session is the HttpOnly `loa_session` cookie, so no token is kept in JS.
 */
import type { User, LoginResponse } from '../../../schemas/api/accounts.ts';
import type { Area, AreaRollup, UpdateArea } from '../../../schemas/api/areas.ts';
import type { Cluster, ClusterDetail, IssuedCredential, TelemetryPoint } from '../../../schemas/api/clusters.ts';
import type { Airing, Broadcast, CreateBroadcast } from '../../../schemas/api/broadcasts.ts';
import type { Content, TtsVoices } from '../../../schemas/api/content.ts';
import type { TtsNormalised, TtsPreview, TtsPreviewRequest } from '../../../schemas/api/tts.ts';
import type { CreatePronunciation, Pronunciation, UpdatePronunciation } from '../../../schemas/api/pronunciations.ts';
import type { Preview, Problem, Programme, ProgrammeInput } from '../../../schemas/api/programmes.ts';
import type { NowNext, Timetable, TimetableEntry } from '../../../schemas/api/timetable.ts';
import type { LiveSession, LiveSessionInput, RelaySource, RelaySourceInput, RelaySourcePatch, StreamStatus, StreamSwitch } from '../../../schemas/api/live.ts';

export type { Airing, User, Area, AreaRollup, Cluster, ClusterDetail, IssuedCredential, Broadcast, CreateBroadcast, Content, TtsVoices, TtsNormalised, Pronunciation };
export type { Preview, Problem, Programme, ProgrammeInput, NowNext, Timetable, TimetableEntry };
export type { LiveSession, LiveSessionInput, RelaySource, RelaySourceInput, RelaySourcePatch, StreamStatus, StreamSwitch };
export type { TelemetryPoint };

/** A failed request: `field` is the server's path such as 'body/title' (null for network errors). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | null = null,
    readonly details: { line: number; field: string; message: string }[] = [],
  ) {
    super(message);
  }
  get network(): boolean {
    return this.status === 0;
  }
}

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export async function request<T>(method: string, url: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = {};
  let payload: BodyInit | undefined;
  if (body instanceof FormData || typeof body === 'string') payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers: { ...headers, ...(init.headers as Record<string, string>) }, body: payload, credentials: 'same-origin', ...init });
  } catch {
    throw new ApiError(0, 'network');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    if (res.status === 401 && !url.startsWith('/api/auth/')) onUnauthorized();
    throw new ApiError(res.status, data?.message ?? res.statusText, data?.field ?? null, Array.isArray(data?.details) ? data.details : []);
  }
  return data as T;
}

const q = (params: Record<string, unknown>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '' && v !== null) s.set(k, String(v));
  const str = s.toString();
  return str ? '?' + str : '';
};

export const api = {
  setupStatus: () => request<{ needed: boolean }>('GET', '/api/auth/setup'),
  setup: (body: { token: string; username?: string; password: string; displayName?: string }) => request<LoginResponse | User>('POST', '/api/auth/setup', body),
  login: (username: string, password: string) => request<LoginResponse>('POST', '/api/auth/login', { username, password }),
  logout: () => request<void>('POST', '/api/auth/logout'),
  me: () => request<User>('GET', '/api/auth/me'),
  updateMe: (body: { locale?: 'vi' | 'en'; displayName?: string | null }) => request<User>('PATCH', '/api/auth/me', body),
  changePassword: (currentPassword: string, newPassword: string) => request<void>('POST', '/api/auth/password', { currentPassword, newPassword }),
  users: () => request<User[]>('GET', '/api/users'),
  createUser: (body: unknown) => request<User>('POST', '/api/users', body),
  updateUser: (id: string, body: unknown) => request<User>('PATCH', `/api/users/${id}`, body),
  areas: () => request<Area[]>('GET', '/api/areas'),
  rollup: (id: string) => request<AreaRollup>('GET', `/api/areas/${id}/rollup`),
  /** admins only; `policy` replaces the area's own rules (null = all inherited); a bad rule is 400 naming e.g. body/policy/sessions/0/to */
  updateArea: (id: string, patch: UpdateArea) => request<Area>('PATCH', `/api/areas/${id}`, patch),
  clusters: (p: { areaId?: string; online?: boolean; fault?: boolean; q?: string; limit?: number; offset?: number } = {}) => request<{ total: number; items: Cluster[] }>('GET', '/api/clusters' + q(p)),
  cluster: (id: string) => request<ClusterDetail>('GET', `/api/clusters/${id}`),
  telemetry: (id: string, from: string, to: string, resolution: number) =>
    request<{ resolution: number; points: TelemetryPoint[] }>('GET', `/api/clusters/${id}/telemetry` + q({ from, to, resolution })),
  clusterAirings: (id: string) => request<Airing[]>('GET', `/api/clusters/${id}/airings`),
  createCluster: (body: unknown) => request<{ cluster: Cluster; credential: IssuedCredential } & Record<string, any>>('POST', '/api/clusters', body),
  importClusters: (csv: string) => request<{ created: number; credentials: IssuedCredential[] }>('POST', '/api/clusters/import', csv, { headers: { 'content-type': 'text/csv' } }),
  rotate: (id: string) => request<IssuedCredential>('POST', `/api/clusters/${id}/credential/rotate`),
  revoke: (id: string) => request<unknown>('POST', `/api/clusters/${id}/credential/revoke`),
  broadcasts: (p: { state?: string; level?: string; areaId?: string; limit?: number } = {}) => request<Broadcast[]>('GET', '/api/broadcasts' + q(p)),
  broadcast: (id: string) => request<Broadcast>('GET', `/api/broadcasts/${id}`),
  airings: (id: string) => request<Airing[]>('GET', `/api/broadcasts/${id}/airings`),
  createBroadcast: (body: CreateBroadcast) => request<Broadcast>('POST', '/api/broadcasts', body),
  approve: (id: string) => request<Broadcast>('POST', `/api/broadcasts/${id}/approve`),
  reject: (id: string, reason: string) => request<Broadcast>('POST', `/api/broadcasts/${id}/reject`, { reason }),
  cancel: (id: string) => request<Broadcast>('POST', `/api/broadcasts/${id}/cancel`),
  voices: () => request<TtsVoices>('GET', '/api/tts/voices'),
  ttsPreview: (body: TtsPreviewRequest) => request<TtsPreview>('POST', '/api/tts/preview', body),
  /** the text as it will be spoken, without synthesising; `signal` drops an answer overtaken by typing */
  ttsNormalise: (body: TtsPreviewRequest, signal?: AbortSignal) => request<TtsNormalised>('POST', '/api/tts/normalise', body, { signal }),
  pronunciations: (communeId: string) => request<Pronunciation[]>('GET', '/api/tts/pronunciations' + q({ communeId })),
  addPronunciation: (body: CreatePronunciation) => request<Pronunciation>('POST', '/api/tts/pronunciations', body),
  updatePronunciation: (id: string, body: UpdatePronunciation) => request<Pronunciation>('PATCH', `/api/tts/pronunciations/${id}`, body),
  deletePronunciation: (id: string) => request<void>('DELETE', `/api/tts/pronunciations/${id}`),
  content: (id: string) => request<Content>('GET', `/api/content/${id}`),
  // recordings library (issue 10): a page of items with what holds each; DELETE is 409 with `details` while one does
  contentList: (p: { q?: string; source?: 'upload' | 'tts' | 'playlist'; limit?: number; offset?: number } = {}) =>
    request<import('../../../schemas/api/content.ts').ContentListItem[]>('GET', '/api/content' + q(p)),
  deleteContent: (id: string) => request<void>('DELETE', `/api/content/${id}`),
  // alarms (issue 10): current faults with since/ack; `active: true` for what is wrong now
  alarms: (p: { areaId?: string; clusterId?: string; active?: boolean; acknowledged?: boolean; limit?: number } = {}) =>
    request<import('../../../schemas/api/alarms.ts').Alarm[]>('GET', '/api/alarms' + q(p)),
  ackAlarm: (id: string, note: string) => request<import('../../../schemas/api/alarms.ts').Alarm>('POST', `/api/alarms/${id}/ack`, { note }),
  // programmes and the timetable (issue 11); a refused save is 400 (quiet hours, session cap) or 409 (clash) with `details: Problem[]`
  programmes: (p: { areaId?: string; state?: string } = {}) => request<Programme[]>('GET', '/api/programmes' + q(p)),
  programme: (id: string) => request<Programme>('GET', `/api/programmes/${id}`),
  previewProgramme: (body: ProgrammeInput, programmeId?: string, signal?: AbortSignal) => request<Preview>('POST', '/api/programmes/preview' + q({ programmeId }), body, { signal }),
  createProgramme: (body: ProgrammeInput) => request<Programme>('POST', '/api/programmes', body),
  updateProgramme: (id: string, body: ProgrammeInput) => request<Programme>('PUT', `/api/programmes/${id}`, body),
  approveProgramme: (id: string) => request<Programme>('POST', `/api/programmes/${id}/approve`),
  rejectProgramme: (id: string, reason: string) => request<Programme>('POST', `/api/programmes/${id}/reject`, { reason }),
  deleteProgramme: (id: string) => request<void>('DELETE', `/api/programmes/${id}`),
  timetable: (p: { areaId?: string; clusterId?: string; from?: string; to?: string }) => request<Timetable>('GET', '/api/timetable' + q(p)),
  timetableNow: (p: { areaId?: string; clusterId?: string }) => request<NowNext>('GET', '/api/timetable/now' + q(p)),
  // live audio (issue 12): relay sources ("Nguồn tiếp sóng") and going live from the microphone ("Phát trực tiếp")
  relaySources: (areaId?: string) => request<RelaySource[]>('GET', '/api/live/sources' + q({ areaId })),
  createRelaySource: (body: RelaySourceInput) => request<RelaySource>('POST', '/api/live/sources', body),
  updateRelaySource: (id: string, body: RelaySourcePatch) => request<RelaySource>('PATCH', `/api/live/sources/${id}`, body),
  deleteRelaySource: (id: string) => request<void>('DELETE', `/api/live/sources/${id}`),
  /** the broadcast is created at once (403 when the role may not air there without approval); the audio follows over `audioPath` */
  goLive: (body: LiveSessionInput) => request<LiveSession>('POST', '/api/live/sessions', body),
  liveSession: (id: string) => request<LiveSession>('GET', `/api/live/sessions/${id}`),
  endLive: (id: string) => request<LiveSession>('POST', `/api/live/sessions/${id}/end`),
  /** a plain link (the session cookie goes with it), so the phone's own calendar app takes the file */
  timetableIcsUrl: (areaId: string) => '/api/timetable.ics' + q({ areaId }),
};

/** Multipart upload with byte progress (fetch has no upload progress; XHR does). Answers 202 at once with ?wait=false. */
export function uploadAudio(file: File, onProgress: (pct: number) => void): Promise<Content> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/content?wait=false');
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(Math.round((e.loaded / e.total) * 100));
    xhr.onload = () => {
      let data: any = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data?.message ?? xhr.statusText, data?.field ?? null));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network'));
    const fd = new FormData();
    fd.append('file', file);
    xhr.send(fd);
  });
}
