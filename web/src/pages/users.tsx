import { useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { t, errorText, type Key } from '../i18n/index.ts';
import { session, areaName } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { FormError, Input, Select, useFormErrors } from '../components/ui.tsx';

const ROLES = ['admin', 'operator', 'approver', 'technician', 'viewer'];
const EMPTY = { username: '', displayName: '', role: 'operator', areaIds: [] as string[] };

/** Users and roles, each scoped to areas (an admin with no area sees everything). */
export function Users() {
  const list = useLoad(() => api.users(), []);
  const [f, setF, clear] = useDraft('user-add', EMPTY);
  const [password, setPassword] = useState('');
  const [msg, setMsg] = useState<string>();
  const err = useFormErrors();
  const add = async (e: Event) => {
    e.preventDefault();
    err.clear();
    try {
      await api.createUser({ username: f.username, password, displayName: f.displayName || undefined, role: f.role, areaIds: f.areaIds });
      clear();
      setPassword('');
      list.reload();
    } catch (ex) {
      err.take(ex);
    }
  };
  const toggleDisabled = async (id: string, disabled: boolean) => {
    try {
      await api.updateUser(id, { disabled });
      list.reload();
    } catch (ex) {
      setMsg(errorText(ex));
    }
  };
  return (
    <section>
      <h1>{t('users')}</h1>
      <FormError msg={msg} />
      <ul class="list">
        {list.data?.map((u) => (
          <li>
            <strong>{u.displayName ?? u.username}</strong> <span class="small muted">{u.username}</span>
            <span class="row-meta">
              {t(('role_' + u.role) as Key)} · {u.areaIds.length ? u.areaIds.map(areaName).join(', ') : t('allAreas')}
              {u.disabled && <span class="badge st-rejected">{t('disabled')}</span>}
              {u.id !== session.user?.id && (
                <button type="button" class="link" onClick={() => toggleDisabled(u.id, !u.disabled)}>
                  {u.disabled ? '✓' : t('disabled')}
                </button>
              )}
            </span>
          </li>
        ))}
      </ul>
      <form class="card" onSubmit={add}>
        <h2>{t('addUser')}</h2>
        <FormError msg={err.errors._} />
        <Input label={t('username')} value={f.username} onValue={(v) => setF({ ...f, username: v })} error={err.errors.username} autocomplete="off" />
        <Input label={t('displayName')} value={f.displayName} onValue={(v) => setF({ ...f, displayName: v })} error={err.errors.displayName} />
        <Input label={t('password')} type="password" autocomplete="new-password" value={password} onValue={setPassword} error={err.errors.password} />
        <Select label={t('role')} value={f.role} onValue={(v) => setF({ ...f, role: v })} options={ROLES.map((r) => [r, t(('role_' + r) as Key)])} />
        <fieldset>
          <legend>{t('areas')}</legend>
          {err.errors.areaIds && <p class="field-error">{err.errors.areaIds}</p>}
          {session.areas.filter((a) => a.kind !== 'hamlet').map((a) => (
            <label class="inline">
              <input type="checkbox" checked={f.areaIds.includes(a.id)} onChange={() => setF({ ...f, areaIds: f.areaIds.includes(a.id) ? f.areaIds.filter((x) => x !== a.id) : [...f.areaIds, a.id] })} /> {a.name}
            </label>
          ))}
        </fieldset>
        <button class="primary" type="submit">{t('addUser')}</button>
      </form>
    </section>
  );
}
