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
import { Approvals } from './pages/approvals.tsx';
import { ClusterList, ClusterDetail } from './pages/clusters.tsx';
import { MapPage } from './pages/map.tsx';
import { lazy } from './components/lazy.tsx';
// Screens of admins, technicians and the composer's tools load when first opened, not with the dashboard.
const Pronunciations = lazy(() => import('./pages/pronunciations.tsx').then((m) => m.Pronunciations));
const Devices = lazy(() => import('./pages/devices.tsx').then((m) => m.Devices));
const Users = lazy(() => import('./pages/users.tsx').then((m) => m.Users));
const AreasPage = lazy(() => import('./pages/areas.tsx').then((m) => m.AreasPage));
const Recordings = lazy(() => import('./pages/recordings.tsx').then((m) => m.Recordings));
const TimetablePage = lazy(() => import('./pages/timetable.tsx').then((m) => m.TimetablePage));
const Programmes = lazy(() => import('./pages/programmes.tsx').then((m) => m.Programmes));
const ProgrammeEditor = lazy(() => import('./pages/programme-editor.tsx').then((m) => m.ProgrammeEditor));
// Live audio (issue 12): the microphone page and the relay sources, fetched when first opened.
const LivePage = lazy(() => import('./pages/live.tsx').then((m) => m.LivePage));
const Sources = lazy(() => import('./pages/sources.tsx').then((m) => m.Sources));
import { Notices, usePendingCount } from './components/notices.tsx';

const routes: [string, (p: Record<string, string>) => preact.JSX.Element][] = [
  ['/', () => <Dashboard />],
  ['/emergency', () => <Emergency />],
  ['/broadcasts', () => <BroadcastList />],
  ['/broadcasts/:id', (p) => <BroadcastDetail id={p.id} />],
  ['/compose', () => <Compose />],
  ['/live', () => <LivePage />],
  ['/sources', () => <Sources />],
  ['/pronunciations', () => <Pronunciations />],
  ['/recordings', () => <Recordings />],
  ['/approvals', () => <Approvals />],
  ['/timetable', () => <TimetablePage />],
  ['/programmes', () => <Programmes />],
  ['/programmes/new', () => <ProgrammeEditor />],
  ['/programmes/:id', (p) => <ProgrammeEditor id={p.id} />],
  ['/clusters', () => <ClusterList />],
  ['/clusters/:id', (p) => <ClusterDetail id={p.id} />],
  ['/map', () => <MapPage />],
  ['/devices', () => <Devices />],
  ['/users', () => <Users />],
  ['/areas', () => <AreasPage />],
  ['/account', () => <Password />],
];

/** The language follows the user to other devices: it is saved on their account as well as in this browser. */
function switchLocale() {
  const next = getLocale() === 'vi' ? 'en' : 'vi';
  setLocale(next);
  api.updateMe({ locale: next }).then((u) => (session.user = u), () => {});
}

/** One place in the menu. Adding a screen is one entry in `places()` (plus its route above). */
interface NavItem {
  to: string;
  label: string;
  show: boolean;
  /** A count shown as a bubble beside the label (bulletins waiting, say); 0 or absent shows nothing. */
  badge?: number;
  /** What the count means, read by screen readers after the label: "Duyệt tin, 3 bản tin chờ duyệt". */
  badgeText?: (n: number) => string;
}

function places(pending = 0): NavItem[] {
  return [
    { to: '/', label: t('dashboard'), show: true },
    { to: '/map', label: t('map'), show: true },
    { to: '/clusters', label: t('clusters'), show: true },
    { to: '/broadcasts', label: t('broadcasts'), show: true },
    { to: '/compose', label: t('compose'), show: can.broadcast() },
    { to: '/live', label: t('mic.nav'), show: can.broadcast() },
    { to: '/timetable', label: t('tt.title'), show: true },
    { to: '/programmes', label: t('prog.title'), show: can.broadcast() },
    { to: '/recordings', label: t('recordings'), show: can.broadcast() },
    { to: '/sources', label: t('src.nav'), show: can.broadcast() },
    { to: '/pronunciations', label: t('pronunciations'), show: can.broadcast() },
    { to: '/approvals', label: t('approvals'), show: can.approve(), badge: pending, badgeText: (n) => t('pendingN', { n }) },
    { to: '/devices', label: t('devices'), show: can.devices() },
    { to: '/users', label: t('users'), show: can.admin() },
    { to: '/areas', label: t('area.nav'), show: can.admin() },
    { to: '/account', label: t('account'), show: true },
  ];
}

/**
 * The four places a phone's bottom bar holds, by what each role does most: an officer who airs bulletins writes and
 * follows them (the red emergency button is on the dashboard), a leader approves, a technician looks after the
 * clusters. Everything else is one tap away under "Thêm".
 */
const PHONE_BAR: Record<string, string[]> = {
  admin: ['/', '/compose', '/broadcasts', '/clusters'],
  operator: ['/', '/compose', '/broadcasts', '/clusters'],
  approver: ['/', '/approvals', '/broadcasts', '/clusters'],
  technician: ['/', '/map', '/clusters', '/devices'],
  viewer: ['/', '/map', '/clusters', '/broadcasts'],
};

/** Line icons (24 × 24, stroked in currentColor) for the bottom bar; drawn inline, so nothing is fetched. */
const ICONS: Record<string, string> = {
  '/': 'M3 11l9-7 9 7v9h-6v-6H9v6H3z',
  '/map': 'M12 21s-7-6.2-7-11a7 7 0 0 1 14 0c0 4.8-7 11-7 11zM12 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z',
  '/clusters': 'M4 9h4l5-4v14l-5-4H4zM16.5 8.5a5 5 0 0 1 0 7M19 6a8.5 8.5 0 0 1 0 12',
  '/broadcasts': 'M5 6h14M5 12h14M5 18h9',
  '/compose': 'M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4',
  '/approvals': 'M5 12.5l4.5 4.5L19 7',
  '/devices': 'M7 7h10v10H7zM9.5 3v4M14.5 3v4M9.5 17v4M14.5 17v4M3 9.5h4M3 14.5h4M17 9.5h4M17 14.5h4',
  more: 'M4 6h16M4 12h16M4 18h16',
};
const Icon = ({ d }: { d?: string }) => (
  <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
    <path d={d ?? ICONS.more} />
  </svg>
);

const Count = ({ n, text }: { n?: number; text?: (n: number) => string }) =>
  n ? (
    <>
      <span class="count" aria-hidden="true">
        {n > 99 ? '99+' : n}
      </span>
      <span class="sr-only">, {text ? text(n) : n}</span>
    </>
  ) : null;

const isHere = (to: string, path: string) => (to === '/' ? path === '/' : path === to || path.startsWith(to + '/'));

function NavLink({ item, path, go, icon }: { item: NavItem; path: string; go: (e: MouseEvent, to: string) => void; icon?: boolean }) {
  return (
    <a href={item.to} aria-current={isHere(item.to, path) ? 'page' : undefined} onClick={(e) => go(e, item.to)}>
      {icon && <Icon d={ICONS[item.to]} />}
      <span class="nav-label">{item.label}</span>
      <Count n={item.badge} text={item.badgeText} />
    </a>
  );
}

/**
 * The phone menu: a bar fixed at the bottom (in thumb reach) with four places and "Thêm", which opens a sheet with
 * every other place. A disclosure, not a modal: the button says whether it is open (aria-expanded), opening moves
 * the focus to the first entry, Escape or a tap beside the sheet closes it and gives the focus back to the button,
 * and leaving it with Tab closes it too.
 */
function PhoneMenu({ items, path, go, onSignOut }: { items: NavItem[]; path: string; go: (e: MouseEvent, to: string) => void; onSignOut: () => void }) {
  const [open, setOpen] = useState(false);
  const btn = useRef<HTMLButtonElement>(null);
  const sheet = useRef<HTMLDivElement>(null);
  const nav = useRef<HTMLElement>(null);
  const barTo = PHONE_BAR[session.user?.role ?? ''] ?? PHONE_BAR.viewer;
  const bar = barTo.map((to) => items.find((i) => i.to === to)).filter((i): i is NavItem => !!i);
  const rest = items.filter((i) => !barTo.includes(i.to));
  const restCount = rest.reduce((n, i) => n + (i.badge ?? 0), 0);
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) btn.current?.focus();
  };
  useEffect(() => setOpen(false), [path]);
  // A layout effect: the focus is in the sheet by the time it is painted, so a quick Tab cannot land behind it.
  useLayoutEffect(() => {
    if (!open) return;
    sheet.current?.querySelector<HTMLElement>('a, button')?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && close(true);
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [open]);
  return (
    <nav
      class="phone-nav phone-only"
      aria-label={t('navMain')}
      ref={nav}
      onFocusOut={(e) => open && e.relatedTarget instanceof Node && !nav.current?.contains(e.relatedTarget) && setOpen(false)}
    >
      <ul class="tabbar">
        {bar.map((item) => (
          <li>
            <NavLink item={item} path={path} go={go} icon />
          </li>
        ))}
        <li>
          <button
            type="button"
            ref={btn}
            class={'more' + (rest.some((i) => isHere(i.to, path)) ? ' here' : '')}
            aria-expanded={open}
            aria-controls="nav-more"
            onClick={() => setOpen(!open)}
          >
            <Icon />
            <span class="nav-label">{t('navMore')}</span>
            <Count n={restCount} text={(n) => t('navMoreNew', { n })} />
          </button>
        </li>
      </ul>
      {open && <div class="sheet-backdrop" onClick={() => close(true)} />}
      <div id="nav-more" class="sheet" ref={sheet} hidden={!open}>
        <h2 class="sheet-title">{t('navMoreTitle')}</h2>
        <ul>
          {rest.map((item) => (
            <li>
              <NavLink item={item} path={path} go={go} />
            </li>
          ))}
          <li>
            <button type="button" class="sheet-action" onClick={onSignOut}>
              {t('signOut')}
            </button>
          </li>
        </ul>
        <button type="button" class="sheet-close" onClick={() => close(true)}>
          {t('navClose')}
        </button>
      </div>
    </nav>
  );
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
  const pending = usePendingCount();
  const nav = places(pending).filter((n) => n.show);
  // Each screen has its own title, and after moving to another screen the focus starts at its content, so a screen
  // reader announces it and the next Tab reaches its first control rather than the top of the page.
  const here = nav.find((n) => n.to !== '/' && isHere(n.to, path)) ?? (path === '/' ? nav[0] : null);
  const title = (path === '/emergency' ? t('emergencyTitle') : here?.label) ?? t('appName');
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
        {/* Always in sight, on a phone too: someone who cannot read Vietnamese would not look under "Thêm". */}
        <button type="button" class="link" onClick={switchLocale} lang={getLocale() === 'vi' ? 'en' : 'vi'}>
          {getLocale() === 'vi' ? 'English' : 'Tiếng Việt'}
        </button>
        <button type="button" class="link wide-only" onClick={onSignOut}>
          {t('signOut')}
        </button>
      </header>
      <nav class="nav wide-only" aria-label={t('navMain')}>
        {nav.map((item) => (
          <NavLink item={item} path={path} go={link} />
        ))}
      </nav>
      <PhoneMenu items={nav} path={path} go={link} onSignOut={onSignOut} />
      {!online && <p class="banner warn">{t('offlineBanner')}</p>}
      {live === 'lost' && online && <p class="banner warn">{t('liveLost')}</p>}
      <main id="main" class="app-main" tabIndex={-1} ref={mainRef}>
        {page ?? <h1>{t('notFound')}</h1>}
      </main>
      <Notices />
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
