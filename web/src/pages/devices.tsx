import { useState } from 'preact/hooks';
import { api, ApiError, type IssuedCredential } from '../api/client.ts';
import { t, errorText } from '../i18n/index.ts';
import { session } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { Field, FormError, Input, Select, useFormErrors } from '../components/ui.tsx';

function Secret({ cred }: { cred: IssuedCredential }) {
  return (
    <div class="banner ok" role="status" data-testid="secret">
      <p>{t('secretOnce')}</p>
      <p>
        <code>{cred.username}</code> / <code>{cred.secret}</code>
      </p>
    </div>
  );
}

const EMPTY = { name: '', areaId: '', serial: '', lat: '', lon: '', outputs: '4' };

export function Devices() {
  const [f, setF, clear] = useDraft('device-add', EMPTY);
  const [csv, setCsv, clearCsv] = useDraft('device-import', { text: 'name,areaId,serial,outputs\n' });
  const [creds, setCreds] = useState<IssuedCredential[]>([]);
  const [importErr, setImportErr] = useState<{ msg: string; details: { line: number; field: string; message: string }[] } | null>(null);
  const [msg, setMsg] = useState<string>();
  const err = useFormErrors();
  const list = useLoad(() => api.clusters({}), [], ['status']);
  const areas = session.areas.filter((a) => a.kind !== 'province');
  const add = async (e: Event) => {
    e.preventDefault();
    err.clear();
    try {
      const n = Math.max(1, Number(f.outputs) || 1);
      const r = await api.createCluster({
        name: f.name,
        areaId: f.areaId || areas[0]?.id,
        serial: f.serial,
        lat: f.lat === '' ? undefined : Number(f.lat),
        lon: f.lon === '' ? undefined : Number(f.lon),
        outputs: Array.from({ length: n }, (_, index) => ({ index, label: `Loa ${index + 1}` })),
      });
      setCreds([r.credential]);
      clear();
      list.reload();
    } catch (ex) {
      err.take(ex);
    }
  };
  const runImport = async (e: Event) => {
    e.preventDefault();
    setImportErr(null);
    try {
      const r = await api.importClusters(csv.text);
      setCreds(r.credentials);
      clearCsv();
      list.reload();
    } catch (ex) {
      setImportErr({ msg: errorText(ex), details: ex instanceof ApiError ? ex.details : [] });
    }
  };
  const cred = async (id: string, kind: 'rotate' | 'revoke') => {
    setMsg(undefined);
    try {
      if (kind === 'rotate') setCreds([await api.rotate(id)]);
      else await api.revoke(id);
      list.reload();
    } catch (ex) {
      setMsg(errorText(ex));
    }
  };
  return (
    <section>
      <h1>{t('devices')}</h1>
      {creds.map((c) => (
        <Secret cred={c} />
      ))}
      <form class="card" onSubmit={add}>
        <h2>{t('addCluster')}</h2>
        <FormError msg={err.errors._} />
        <Input label={t('name')} value={f.name} onValue={(v) => setF({ ...f, name: v })} error={err.errors.name} />
        <Select label={t('area')} value={f.areaId || areas[0]?.id || ''} onValue={(v) => setF({ ...f, areaId: v })} options={areas.map((a) => [a.id, a.name])} error={err.errors.areaId} />
        <Input label={t('serial')} value={f.serial} onValue={(v) => setF({ ...f, serial: v })} error={err.errors.serial} />
        <div class="grid3">
          <Input label={t('lat')} type="number" value={f.lat} onValue={(v) => setF({ ...f, lat: v })} error={err.errors.lat} />
          <Input label={t('lon')} type="number" value={f.lon} onValue={(v) => setF({ ...f, lon: v })} error={err.errors.lon} />
          <Input label={t('outputsCount')} type="number" min={1} max={8} value={f.outputs} onValue={(v) => setF({ ...f, outputs: v })} error={err.errors.outputs} />
        </div>
        <button class="primary" type="submit">{t('addCluster')}</button>
      </form>
      <form class="card" onSubmit={runImport}>
        <h2>{t('bulkImport')}</h2>
        <Field label="CSV">{(id) => <textarea id={id} rows={6} value={csv.text} onInput={(e) => setCsv({ text: e.currentTarget.value })} spellcheck={false} />}</Field>
        {importErr && (
          <div role="alert" data-testid="import-errors">
            <p class="banner error">{importErr.msg}</p>
            {importErr.details.length > 0 && (
              <table>
                <thead><tr><th>{t('line')}</th><th>{t('field')}</th><th>{t('message')}</th></tr></thead>
                <tbody>{importErr.details.map((d) => <tr><td>{d.line}</td><td>{d.field}</td><td>{d.message}</td></tr>)}</tbody>
              </table>
            )}
          </div>
        )}
        <button class="primary" type="submit">{t('importRun')}</button>
      </form>
      <h2>{t('clusters')}</h2>
      <FormError msg={msg} />
      <ul class="list">
        {list.data?.items.map((c) => (
          <li>
            <strong>{c.name}</strong> <span class="small muted">{c.id}</span>
            <span class="actions">
              {c.credential === 'revoked' && <span class="badge st-rejected">{t('revoked')}</span>}
              <button type="button" onClick={() => cred(c.id, 'rotate')}>{t('rotate')}</button>
              <button type="button" class="danger" disabled={c.credential === 'revoked'} onClick={() => confirm(t('revoke') + ' ' + c.name + '?') && cred(c.id, 'revoke')}>
                {t('revoke')}
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
