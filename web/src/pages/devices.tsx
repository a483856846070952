import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type Cluster, type IssuedCredential } from '../api/client.ts';
import { t, errorText, messageText, type Key } from '../i18n/index.ts';
import { fmtNum } from '../i18n/numbers.ts';
import { session } from '../session.ts';
import { useDraft, useLoad } from '../hooks.ts';
import { Field, FormError, Input, Select, useFormErrors } from '../components/ui.tsx';

/**
 * A device secret is shown once, right after it is issued, and lives only in this component's memory: leaving the
 * screen (or "noted") forgets it; the server keeps only a hash.
 */
function Secrets({ creds, onDone }: { creds: IssuedCredential[]; onDone: () => void }) {
  if (!creds.length) return null;
  return (
    <div class="banner ok" role="status" data-testid="secret">
      <p>{t('secretOnce')}</p>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('username')}</th>
            <th scope="col">{t('password')}</th>
          </tr>
        </thead>
        <tbody>
          {creds.map((c) => (
            <tr>
              <td>
                <code data-testid="secret-username">{c.username}</code>
              </td>
              <td>
                <code data-testid="secret-value">{c.secret}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={onDone}>
        {t('secretNoted')}
      </button>
    </div>
  );
}

const FIELDS: Record<string, Key> = { name: 'name', areaId: 'area', serial: 'serial', lat: 'lat', lon: 'lon', outputs: 'outputsCount', id: 'identity' };
const fieldText = (f: string) => {
  const top = f.split('/')[0];
  return FIELDS[top] ? `${t(FIELDS[top])} (${f})` : f;
};

/** The fleet a page at a time, searched on the server (name, id, serial): a whole province on one screen was ≈ 11,400 px on a phone (issue 10). */
export const PAGE = 20;
const clusterPage = (q: string, page: number) => api.clusters({ q: q || undefined, limit: PAGE, offset: page * PAGE });

/** Previous / next page under a list, with where the reader is ("Trang 2/3"). */
export function Pager({ page, total, onPage }: { page: number; total: number; onPage: (p: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / PAGE));
  if (pages <= 1) return null;
  return (
    <nav class="pager" aria-label={t('pager')}>
      <button type="button" disabled={page <= 0} onClick={() => onPage(page - 1)}>
        ‹ {t('pagePrev')}
      </button>
      <span>{t('pageOf', { n: fmtNum(page + 1), m: fmtNum(pages) })}</span>
      <button type="button" disabled={page >= pages - 1} onClick={() => onPage(page + 1)}>
        {t('pageNext')} ›
      </button>
    </nav>
  );
}

const EMPTY = { name: '', areaId: '', serial: '', lat: '', lon: '', outputs: '4' };

export function Devices() {
  const [f, setF, clear] = useDraft('device-add', EMPTY);
  const [csv, setCsv, clearCsv] = useDraft('device-import', { text: 'name,areaId,serial,outputs,lat,lon\n' });
  const [creds, setCreds] = useState<IssuedCredential[]>([]);
  const [importErr, setImportErr] = useState<{ msg: string; details: { line: number; field: string; message: string }[] } | null>(null);
  const [imported, setImported] = useState<number | null>(null);
  const [msg, setMsg] = useState<string>();
  const [q, setQ] = useState('');
  const [page, setPage] = useState(0);
  const err = useFormErrors();
  const needle = q.trim();
  const list = useLoad(() => clusterPage(needle, page), [needle, page], ['status']);
  // After "Trang sau" the reader starts at the top of the new page, not below its end.
  const listTop = useRef<HTMLHeadingElement>(null);
  const turned = useRef(false);
  useEffect(() => {
    if (turned.current && list.data) (turned.current = false), listTop.current?.focus();
  }, [list.data]);
  const turn = (p: number) => ((turned.current = true), setPage(p));
  const search = (v: string) => (setQ(v), setPage(0));
  // A device removed or filtered away can leave the page past the end: go back to the last one.
  const last = list.data ? Math.max(0, Math.ceil(list.data.total / PAGE) - 1) : 0;
  useEffect(() => {
    if (page > last) setPage(last);
  }, [page, last]);
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
        lat: f.lat === '' ? undefined : Number(f.lat.replace(',', '.')),
        lon: f.lon === '' ? undefined : Number(f.lon.replace(',', '.')),
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
    setImported(null);
    try {
      const r = await api.importClusters(csv.text);
      setCreds(r.credentials);
      setImported(r.created);
      clearCsv();
      list.reload();
    } catch (ex) {
      const details = ex instanceof ApiError ? ex.details : [];
      setImportErr({ msg: details.length ? t('importFailed', { n: new Set(details.map((d) => d.line)).size }) : errorText(ex), details });
    }
  };
  const cred = async (id: string, name: string, kind: 'rotate' | 'revoke') => {
    setMsg(undefined);
    if (!confirm(kind === 'rotate' ? t('rotateConfirm', { name }) : t('revoke') + ' ' + name + '?')) return;
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
      <Secrets creds={creds} onDone={() => setCreds([])} />
      <form class="card" onSubmit={add} aria-labelledby="add-cluster">
        <h2 id="add-cluster">{t('addCluster')}</h2>
        <FormError msg={err.errors._} />
        <Input label={t('name')} value={f.name} onValue={(v) => setF({ ...f, name: v })} error={err.errors.name} />
        <Select label={t('area')} value={f.areaId || areas[0]?.id || ''} onValue={(v) => setF({ ...f, areaId: v })} options={areas.map((a) => [a.id, '\u00a0'.repeat(Math.max(0, a.level - 1) * 2) + a.name])} error={err.errors.areaId} />
        <Input label={t('serial')} value={f.serial} onValue={(v) => setF({ ...f, serial: v })} error={err.errors.serial} />
        <div class="grid3">
          <Input label={t('lat')} inputMode="decimal" value={f.lat} onValue={(v) => setF({ ...f, lat: v })} error={err.errors.lat} />
          <Input label={t('lon')} inputMode="decimal" value={f.lon} onValue={(v) => setF({ ...f, lon: v })} error={err.errors.lon} />
          <Input label={t('outputsCount')} type="number" min={1} max={8} value={f.outputs} onValue={(v) => setF({ ...f, outputs: v })} error={err.errors.outputs} />
        </div>
        <button class="primary" type="submit">{t('addCluster')}</button>
      </form>
      <form class="card" onSubmit={runImport} aria-labelledby="bulk-import">
        <h2 id="bulk-import">{t('bulkImport')}</h2>
        <p class="muted small" id="csv-help">
          {t('csvHelp')}
        </p>
        <Field label="CSV">{(id) => <textarea id={id} class="mono" wrap="off" rows={6} value={csv.text} aria-describedby="csv-help" onInput={(e) => setCsv({ text: e.currentTarget.value })} spellcheck={false} />}</Field>
        {imported !== null && (
          <p class="banner ok" role="status">
            {t('imported', { n: imported })}
          </p>
        )}
        {importErr && (
          <div role="alert" data-testid="import-errors">
            <p class="banner error">{importErr.msg}</p>
            {importErr.details.length > 0 && (
              <div class="scroll-x">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{t('line')}</th>
                      <th scope="col">{t('field')}</th>
                      <th scope="col">{t('message')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {importErr.details.map((d) => (
                      <tr>
                        <td>{d.line}</td>
                        <td>{fieldText(d.field)}</td>
                        <td>{messageText(d.message)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
        )}
        <button class="primary" type="submit">{t('importRun')}</button>
      </form>
      <h2 id="device-list" ref={listTop} tabIndex={-1}>
        {t('clusters')}
      </h2>
      <FormError msg={msg} />
      <Input label={t('searchDevice')} type="search" value={q} onValue={search} />
      {list.data && (
        <p class="muted small" role="status">
          {list.data.total
            ? t('devicesShown', { from: fmtNum(page * PAGE + 1), to: fmtNum(page * PAGE + list.data.items.length), total: fmtNum(list.data.total) })
            : needle
              ? t('noDeviceMatch', { q: needle })
              : t('none')}
        </p>
      )}
      <ul class="list" data-testid="device-list" aria-labelledby="device-list">
        {list.data?.items.map((c) => (
          <li data-cluster={c.id}>
            <span>
              <strong>{c.name}</strong> <span class="small muted">{c.id}</span>
            </span>
            <span class="actions">
              {c.credential === 'revoked' && <span class="badge st-rejected">{t('revoked')}</span>}
              <button type="button" onClick={() => cred(c.id, c.name, 'rotate')} aria-label={`${t('rotate')}: ${c.name}`}>
                {t('rotate')}
              </button>
              <button type="button" class="danger" disabled={c.credential === 'revoked'} onClick={() => cred(c.id, c.name, 'revoke')} aria-label={`${t('revoke')}: ${c.name}`}>
                {t('revoke')}
              </button>
            </span>
          </li>
        ))}
      </ul>
      {list.data && <Pager page={page} total={list.data.total} onPage={turn} />}
    </section>
  );
}
