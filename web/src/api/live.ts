/**
 * One EventSource for the whole console. Screens subscribe to event names; on a dropped connection the browser
 * reconnects by itself and we tell subscribers to refetch (`reconnect`), since events sent meanwhile are lost.
 */
type Handler = (data: any) => void;
const handlers = new Map<string, Set<Handler>>();
let es: EventSource | null = null;
let state: 'off' | 'open' | 'lost' = 'off';
const stateListeners = new Set<(s: typeof state) => void>();
const EVENTS = ['status', 'health', 'event', 'airing', 'broadcast', 'alarm', 'programme', 'live'];

function setState(s: typeof state) {
  state = s;
  stateListeners.forEach((f) => f(s));
}

export function startLive(): void {
  if (es) return;
  es = new EventSource('/api/stream');
  let wasLost = false;
  es.onopen = () => {
    setState('open');
    if (wasLost) emit('reconnect', null);
    wasLost = false;
  };
  es.onerror = () => {
    wasLost = true;
    setState('lost');
  };
  for (const name of EVENTS) es.addEventListener(name, (e) => emit(name, JSON.parse((e as MessageEvent).data)));
}
export function stopLive(): void {
  es?.close();
  es = null;
  setState('off');
}
function emit(name: string, data: unknown) {
  handlers.get(name)?.forEach((h) => h(data));
}
export function on(name: string, h: Handler): () => void {
  if (!handlers.has(name)) handlers.set(name, new Set());
  handlers.get(name)!.add(h);
  return () => handlers.get(name)!.delete(h);
}
export const liveState = () => state;
export const onLiveState = (f: (s: typeof state) => void) => (stateListeners.add(f), () => stateListeners.delete(f));
