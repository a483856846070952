import { render } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import './styles.css';
import { api, setUnauthorizedHandler } from './api/client.ts';
import { startLive, stopLive, onLiveState, liveState } from './api/live.ts';
import { t, setLocale, getLocale, onLocale } from './i18n/index.ts';
import { navigate, onRoute, match } from './router.ts';
import { session, can } from './session.ts';
import { Login, Setup, Password } from './pages/auth.tsx';
import { Dashboard } from './pages/dashboard.tsx';
import { Emergency } from './pages/emergency.tsx';
import { BroadcastDetail, BroadcastList } from './pages/broadcasts.tsx';
import { Compose } from './pages/compose.tsx';
import { Pronunciations } from './pages/pronunciations.tsx';
import { Approvals } from './pages/approvals.tsx';
import { ClusterList, ClusterDetail } from './pages/clusters.tsx';
import { MapPage } from './pages/map.tsx';
import { Devices } from './pages/devices.tsx';
import { Users } from './pages/users.tsx';

const routes: [string, (p: Record<string, string>) => preact.JSX.Element][] = [
  ['/', () => <Dashboard />],
  ['/emergency', () => <Emergency />],
  ['/broadcasts', () => <BroadcastList />],
  ['/broadcasts/:id', (p) => <BroadcastDetail id={p.id} />],
  ['/compose', () => <Compose />],
  ['/pronunciations', () => <Pronunciations />],
  ['/approvals', () => <Approvals />],
  ['/clusters', () => <ClusterList />],
  ['/clusters/:id', (p) => <ClusterDetail id={p.id} />],
  ['/map', () => <MapPage />],
  ['/devices', () => <Devices />],
  ['/users', () => <Users />],
  ['/account', () => <Password />],
];

/** The language follows the user to other devices: it is saved on their account as well as in this browser. */
function switchLocale() {
  const next = getLocale() === 'vi' ? 'en' : 'vi';
  setLocale(next);
  api.updateMe({ locale: next }).then((u) => (session.user = u), () => {});
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const path = location.pathname;
  const [live, setLive] = useState(liveState());
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => (setLive(liveState()), onLiveState(setLive)), []);
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    addEventListener('online', up);
    addEventListener('offline', down);
    return () => (removeEventListener('online', up), removeEventListener('offline', down));
  }, []);
  const nav: [string, string, boolean][] = [
    ['/', t('dashboard'), true],
    ['/map', t('map'), true],
    ['/clusters', t('clusters'), true],
    ['/broadcasts', t('broadcasts'), true],
    ['/compose', t('compose'), can.broadcast()],
    ['/pronunciations', t('pronunciations'), can.broadcast()],
    ['/approvals', t('approvals'), can.approve()],
    ['/devices', t('devices'), can.devices()],
    ['/users', t('users'), can.admin()],
    ['/account', t('account'), true],
  ];
  // Each screen has its own title, and after moving to another screen the focus starts at its content, so a screen
  // reader announces it and the next Tab reaches its first control rather than the top of the page.
  const here = nav.filter((n) => n[0] !== '/' && path.startsWith(n[0]))[0] ?? (path === '/' ? nav[0] : null);
  const title = (path === '/emergency' ? t('emergencyTitle') : here?.[1]) ?? t('appName');
  const mainRef = useRef<HTMLElement>(null);
  const first = useRef(true);
  // Layout effects, not effects: they run in the same task as the render, so the new screen never shows under the
  // old title or with the focus still on the link that was pressed.
  useLayoutEffect(() => {
    document.title = title === t('appName') ? title : `${title} – ${t('appName')}`;
  }, [title]);
  useLayoutEffect(() => {
    if (first.current) first.current = false;
    else mainRef.current?.focus({ preventScroll: true });
  }, [path]);
  let page: preact.JSX.Element | null = null;
  for (const [pattern, view] of routes) {
    const p = match(pattern, path);
    if (p) {
      page = view(p);
      break;
    }
  }
  const link = (e: MouseEvent, to: string) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <>
      <a class="skip" href="#main">
        {t('skipToContent')}
      </a>
      <header class="top">
        <a href="/" class="brand" onClick={(e) => link(e, '/')}>
          {t('appName')}
        </a>
        <span class={'live-dot ' + live} title={live === 'open' ? t('live') : t('liveLost')} aria-label={live === 'open' ? t('live') : t('liveLost')} role="img" />
        <button type="button" class="link" onClick={switchLocale} lang={getLocale() === 'vi' ? 'en' : 'vi'}>
          {getLocale() === 'vi' ? 'English' : 'Tiếng Việt'}
        </button>
        <button type="button" class="link" onClick={onSignOut}>
          {t('signOut')}
        </button>
      </header>
      <nav class="nav" aria-label={t('menu')}>
        {nav
          .filter((n) => n[2])
          .map(([to, label]) => (
            <a href={to} aria-current={(to === '/' ? path === '/' : path.startsWith(to)) ? 'page' : undefined} onClick={(e) => link(e, to)}>
              {label}
            </a>
          ))}
      </nav>
      {!online && <p class="banner warn">{t('offlineBanner')}</p>}
      {live === 'lost' && online && <p class="banner warn">{t('liveLost')}</p>}
      <main id="main" tabIndex={-1} ref={mainRef}>
        {page ?? <h1>{t('notFound')}</h1>}
      </main>
    </>
  );
}

function App() {
  const [, setTick] = useState(0);
  const [phase, setPhase] = useState<'loading' | 'in' | 'out'>('loading');
  useEffect(() => onRoute(() => setTick((x) => x + 1)), []);
  useEffect(() => onLocale(() => setTick((x) => x + 1)), []);
  const enter = async () => {
    try {
      session.user = await api.me();
      session.areas = await api.areas();
      if (session.user.locale && !localStorage.getItem('loa.locale')) setLocale(session.user.locale);
      startLive();
      setPhase('in');
    } catch {
      setPhase('out');
    }
  };
  useEffect(() => {
    setUnauthorizedHandler(() => {
      stopLive();
      session.user = null;
      setPhase('out');
    });
    if (location.pathname === '/setup') setPhase('out');
    else void enter();
  }, []);
  const signOut = async () => {
    await api.logout().catch(() => {});
    stopLive();
    session.user = null;
    setPhase('out');
    navigate('/', true);
  };
  if (location.pathname === '/setup') return <Setup onDone={() => (navigate('/', true), void enter())} />;
  if (phase === 'loading') return <p class="muted center">{t('loading')}</p>;
  if (phase === 'out') return <Login onDone={enter} />;
  return <Shell onSignOut={signOut} />;
}

document.documentElement.lang = getLocale();
render(<App />, document.getElementById('app')!);
