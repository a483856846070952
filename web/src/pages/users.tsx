import { useState } from 'preact/hooks';
import { api, type User } from '../api/client.ts';
import { t, type Key } from '../i18n/index.ts';
import { session, areaName } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { FormError, Input, Select, useFormErrors } from '../components/ui.tsx';

const ROLES = ['admin', 'operator', 'approver', 'technician', 'viewer'];
const roleOptions = () => ROLES.map((r) => [r, t(('role_' + r) as Key)] as [string, string]);
const EMPTY = { username: '', displayName: '', role: 'operator', areaIds: [] as string[] };

/** Area checkboxes (province and communes; a hamlet is too small a scope for an account). */
function AreaChecks({ value, onValue, error }: { value: string[]; onValue: (v: string[]) => void; error?: string }) {
  return (
    <fieldset>
      <legend>{t('areas')}</legend>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
      {session.areas
        .filter((a) => a.kind !== 'hamlet')
        .map((a) => (
          <label class="inline">
            <input type="checkbox" checked={value.includes(a.id)} onChange={() => onValue(value.includes(a.id) ? value.filter((x) => x !== a.id) : [...value, a.id])} /> {a.name}
          </label>
        ))}
      <p class="muted small">{t('areasHelp')}</p>
    </fieldset>
  );
}

/** Edit one user: role, areas, name, an admin password reset (signs them out everywhere), disable. */
function EditUser({ u, onDone }: { u: User; onDone: () => void }) {
  const [f, setF] = useState({ displayName: u.displayName ?? '', role: u.role as string, areaIds: u.areaIds, disabled: u.disabled });
  const [password, setPassword] = useState('');
  const [ok, setOk] = useState(false);
  const err = useFormErrors();
  const self = u.id === session.user?.id;
  const save = async (e: Event) => {
    e.preventDefault();
    err.clear();
    setOk(false);
    const patch: Record<string, unknown> = {};
    if (f.displayName !== (u.displayName ?? '')) patch.displayName = f.displayName || null;
    if (f.role !== u.role) patch.role = f.role;
    if (f.areaIds.join() !== u.areaIds.join()) patch.areaIds = f.areaIds;
    if (f.disabled !== u.disabled) patch.disabled = f.disabled;
    if (password) patch.password = password;
    try {
      await api.updateUser(u.id, patch);
      setPassword('');
      setOk(true);
      onDone();
    } catch (ex) {
      err.take(ex);
    }
  };
  return (
    <form class="card edit" onSubmit={save} aria-label={t('editUser', { name: u.username })} data-testid={'edit-' + u.username}>
      {ok && (
        <p class="banner ok" role="status">
          {t('saved')}
        </p>
      )}
      <FormError msg={err.errors._} />
      <Input label={t('displayName')} value={f.displayName} onValue={(v) => setF({ ...f, displayName: v })} error={err.errors.displayName} />
      <Select label={t('role')} value={f.role} onValue={(v) => setF({ ...f, role: v })} options={roleOptions()} error={err.errors.role} />
      <AreaChecks value={f.areaIds} onValue={(v) => setF({ ...f, areaIds: v })} error={err.errors.areaIds} />
      <Input label={t('resetPassword')} type="password" autocomplete="new-password" value={password} onValue={setPassword} error={err.errors.password} />
      {!self && (
        <label class="inline">
          <input type="checkbox" checked={f.disabled} onChange={() => setF({ ...f, disabled: !f.disabled })} /> {t('disableAccount')}
        </label>
      )}
      <div class="actions">
        <button class="primary" type="submit">
          {t('save')}
        </button>
      </div>
    </form>
  );
}

/** Users and roles, each scoped to areas (an admin with no area sees everything). */
export function Users() {
  const list = useLoad(() => api.users(), []);
  const [f, setF, clear] = useDraft('user-add', EMPTY);
  const [password, setPassword] = useState('');
  const [added, setAdded] = useState<string>();
  const [editing, setEditing] = useState<string | null>(null);
  const err = useFormErrors();
  const add = async (e: Event) => {
    e.preventDefault();
    err.clear();
    setAdded(undefined);
    try {
      const u = await api.createUser({ username: f.username, password, displayName: f.displayName || undefined, role: f.role, areaIds: f.areaIds });
      clear();
      setPassword('');
      setAdded(u.username);
      list.reload();
    } catch (ex) {
      err.take(ex);
    }
  };
  return (
    <section>
      <h1>{t('users')}</h1>
      <ul class="list" data-testid="user-list">
        {list.data?.map((u) => (
          <li data-user={u.username}>
            <span>
              <strong>{u.displayName ?? u.username}</strong> <span class="small muted">{u.username}</span>
            </span>
            <span class="row-meta">
              {t(('role_' + u.role) as Key)} · {u.areaIds.length ? u.areaIds.map(areaName).join(', ') : t('allAreas')}
              {u.disabled && <span class="badge st-rejected">{t('disabled')}</span>}
              <button type="button" aria-expanded={editing === u.id} onClick={() => setEditing(editing === u.id ? null : u.id)} aria-label={`${t('edit')}: ${u.username}`}>
                {t('edit')}
              </button>
            </span>
            {editing === u.id && <EditUser u={u} onDone={list.reload} />}
          </li>
        ))}
      </ul>
      <form class="card" onSubmit={add} aria-labelledby="add-user">
        <h2 id="add-user">{t('addUser')}</h2>
        {added && (
          <p class="banner ok" role="status">
            {t('userAdded', { name: added })}
          </p>
        )}
        <FormError msg={err.errors._} />
        <Input label={t('username')} value={f.username} onValue={(v) => setF({ ...f, username: v })} error={err.errors.username} autocomplete="off" />
        <Input label={t('displayName')} value={f.displayName} onValue={(v) => setF({ ...f, displayName: v })} error={err.errors.displayName} />
        <Input label={t('password')} type="password" autocomplete="new-password" value={password} onValue={setPassword} error={err.errors.password} />
        <Select label={t('role')} value={f.role} onValue={(v) => setF({ ...f, role: v })} options={roleOptions()} />
        <AreaChecks value={f.areaIds} onValue={(v) => setF({ ...f, areaIds: v })} error={err.errors.areaIds} />
        <button class="primary" type="submit">
          {t('addUser')}
        </button>
      </form>
    </section>
  );
}
