import { useState } from 'preact/hooks';
import { api, type Area } from '../api/client.ts';
import { t, type Key } from '../i18n/index.ts';
import { can, session } from '../session.ts';
import { useLoad } from '../hooks.ts';
import { navigate } from '../router.ts';
import { Loading } from '../components/ui.tsx';
import { PolicyForm, origin, originWords, quietWords, sessionsWords, type Areas, type RuleKey } from './area-policy-form.tsx';
import './areas.css';

/**
 * "Quy định phát của địa bàn": the area tree (province → commune → hamlet), each area with the rules in force and
 * whether they are its own ("riêng") or inherited ("theo Đồng Thạnh"), and an editor per area. Admins only (the
 * server refuses anyone else's PATCH as well).
 */
const KINDS = ['province', 'district', 'commune', 'hamlet', 'zone'];
const kindWords = (kind: string) => (KINDS.includes(kind) ? t(('area.k_' + kind) as Key) : kind);

interface Tree {
  byId: Areas;
  kids: Map<string | null, Area[]>;
}
function treeOf(list: Area[]): Tree {
  const byId: Areas = new Map(list.map((a) => [a.id, a]));
  const kids = new Map<string | null, Area[]>();
  for (const a of list) {
    // An area whose parent is out of sight is a root here.
    const p = a.parentId && byId.has(a.parentId) ? a.parentId : null;
    kids.set(p, [...(kids.get(p) ?? []), a]);
  }
  return { byId, kids };
}

function Rule({ a, byId, k, label, value }: { a: Area; byId: Areas; k: RuleKey; label: string; value: string }) {
  const o = origin(a, byId, k);
  return (
    <div data-rule={k}>
      <dt>{label}</dt>
      <dd>
        {value} <span class={'src' + (o === 'own' ? ' own' : '')}>{originWords(o)}</span>
      </dd>
    </div>
  );
}

function Rules({ a, byId }: { a: Area; byId: Areas }) {
  const p = a.effectivePolicy;
  return (
    <dl class="rules">
      <Rule a={a} byId={byId} k="quietHours" label={t('area.quiet')} value={quietWords(p.quietHours)} />
      <Rule a={a} byId={byId} k="sessions" label={t('area.sessions')} value={sessionsWords(p.sessions)} />
      <Rule a={a} byId={byId} k="timeZone" label={t('area.tz')} value={p.timeZone} />
    </dl>
  );
}

interface NodeCtx {
  tree: Tree;
  editing: string | null;
  setEditing: (id: string | null) => void;
  saved: { id: string; quietChanged: boolean } | null;
  onSaved: (before: Area, after: Area) => void;
}

const focusEdit = (id: string) => requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-area="${id}"] > .area-card .area-edit`)?.focus());

function AreaNode({ a, depth, ctx }: { a: Area; depth: number; ctx: NodeCtx }) {
  const children = ctx.tree.kids.get(a.id) ?? [];
  const editing = ctx.editing === a.id;
  const H = `h${Math.min(depth + 2, 6)}` as 'h2';
  return (
    <li data-area={a.id}>
      <div class="area-card">
        <div class="area-head">
          <H class="area-name">
            {a.name} <span class="badge">{kindWords(a.kind)}</span>
          </H>
          <button
            type="button"
            class="area-edit"
            aria-expanded={editing}
            aria-controls={editing ? 'policy-' + a.id : undefined}
            aria-label={t('area.editN', { name: a.name })}
            onClick={() => ctx.setEditing(editing ? null : a.id)}
          >
            {t('area.edit')}
          </button>
        </div>
        <Rules a={a} byId={ctx.tree.byId} />
        {ctx.saved?.id === a.id && (
          <p class="banner ok" role="status">
            {t('area.saved', { name: a.name })}
            {ctx.saved.quietChanged && (
              <>
                {' '}
                {t('area.savedQuiet')} <a href="/timetable" onClick={(e) => (e.preventDefault(), navigate('/timetable'))}>
                  {t('area.openTimetable')}
                </a>
              </>
            )}
          </p>
        )}
        {editing && (
          <PolicyForm
            area={a}
            byId={ctx.tree.byId}
            onSaved={(after) => ctx.onSaved(a, after)}
            onCancel={() => (ctx.setEditing(null), focusEdit(a.id))}
          />
        )}
      </div>
      {children.length > 0 && (
        <ul>
          {children.map((c) => (
            <AreaNode a={c} depth={depth + 1} ctx={ctx} />
          ))}
        </ul>
      )}
    </li>
  );
}

export function AreasPage() {
  // The list also refreshes the session's copy, so the composer and the programme editor see the new rules at once.
  const list = useLoad(() => api.areas().then((l) => (session.areas = l)), []);
  const [editing, setEditing] = useState<string | null>(null);
  const [saved, setSaved] = useState<NodeCtx['saved']>(null);
  if (!can.admin())
    return (
      <section>
        <h1>{t('area.title')}</h1>
        <p class="banner error">{t('forbidden')}</p>
      </section>
    );
  const ctx: NodeCtx = {
    tree: treeOf(list.data ?? []),
    editing,
    setEditing: (id) => (setEditing(id), setSaved(null)),
    saved,
    onSaved: (before, after) => {
      setEditing(null);
      setSaved({ id: after.id, quietChanged: before.effectivePolicy.quietHours !== after.effectivePolicy.quietHours });
      list.reload();
      focusEdit(after.id);
    },
  };
  return (
    <section class="areas-page">
      <h1>{t('area.title')}</h1>
      <p class="hint">{t('area.intro')}</p>
      {!list.data ? (
        <Loading error={list.error} />
      ) : (
        <ul class="area-tree" data-testid="area-tree">
          {(ctx.tree.kids.get(null) ?? []).map((a) => (
            <AreaNode a={a} depth={0} ctx={ctx} />
          ))}
        </ul>
      )}
    </section>
  );
}
