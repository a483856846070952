import { useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { t, getLocale, setLocale } from '../i18n/index.ts';
import { Input, FormError, useFormErrors } from '../components/ui.tsx';
import { useDraft } from '../hooks.ts';

function LangSwitch() {
  return (
    <button type="button" class="link" onClick={() => setLocale(getLocale() === 'vi' ? 'en' : 'vi')}>
      {getLocale() === 'vi' ? 'English' : 'Tiếng Việt'}
    </button>
  );
}

export function Login({ onDone }: { onDone: () => void }) {
  // The username is kept as a draft; a password never is.
  const [f, setF] = useDraft('login', { username: '' });
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const err = useFormErrors();
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    err.clear();
    try {
      await api.login(f.username, password);
      onDone();
    } catch (ex) {
      err.take(ex);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="card narrow" id="main">
      <h1>{t('appName')}</h1>
      <form onSubmit={submit}>
        <FormError msg={err.errors._} />
        <Input label={t('username')} name="username" autocomplete="username" value={f.username} onValue={(v) => setF({ username: v })} error={err.errors.username} required />
        <Input label={t('password')} name="password" type="password" autocomplete="current-password" value={password} onValue={setPassword} error={err.errors.password} required />
        <button class="primary" type="submit" disabled={busy}>
          {t('signIn')}
        </button>
      </form>
      <LangSwitch />
    </main>
  );
}

export function Setup({ onDone }: { onDone: () => void }) {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const [f, setF] = useDraft('setup', { username: 'admin', displayName: '' });
  const [password, setPassword] = useState('');
  const err = useFormErrors();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    err.clear();
    try {
      await api.setup({ token, username: f.username, password, displayName: f.displayName || undefined });
      localStorage.removeItem('loa.draft.setup');
      onDone();
    } catch (ex) {
      err.take(ex);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="card narrow" id="main">
      <h1>{t('setupTitle')}</h1>
      <p>{t('setupIntro')}</p>
      <form onSubmit={submit}>
        <FormError msg={err.errors._ ?? err.errors.token} />
        <Input label={t('username')} name="username" autocomplete="username" value={f.username} onValue={(v) => setF({ ...f, username: v })} error={err.errors.username} />
        <Input label={t('displayName')} name="displayName" value={f.displayName} onValue={(v) => setF({ ...f, displayName: v })} error={err.errors.displayName} />
        <Input label={t('password')} name="password" type="password" autocomplete="new-password" value={password} onValue={setPassword} error={err.errors.password} />
        <button class="primary" type="submit" disabled={busy}>
          {t('createAdmin')}
        </button>
      </form>
      <LangSwitch />
    </main>
  );
}

export function Password() {
  const [cur, setCur] = useState('');
  const [next, setNext] = useState('');
  const [ok, setOk] = useState(false);
  const err = useFormErrors();
  const submit = async (e: Event) => {
    e.preventDefault();
    err.clear();
    setOk(false);
    try {
      await api.changePassword(cur, next);
      setOk(true);
      setCur('');
      setNext('');
    } catch (ex) {
      err.take(ex, (p) => (p.includes('newPassword') ? 'newPassword' : p.includes('currentPassword') || /current/i.test(p) ? 'currentPassword' : null));
    }
  };
  return (
    <section class="card narrow">
      <h1>{t('changePassword')}</h1>
      <form onSubmit={submit}>
        {ok && <p class="banner ok" role="status">{t('passwordChanged')}</p>}
        <FormError msg={err.errors._} />
        <Input label={t('currentPassword')} type="password" autocomplete="current-password" value={cur} onValue={setCur} error={err.errors.currentPassword} />
        <Input label={t('newPassword')} type="password" autocomplete="new-password" value={next} onValue={setNext} error={err.errors.newPassword} />
        <button class="primary" type="submit">
          {t('save')}
        </button>
      </form>
    </section>
  );
}
