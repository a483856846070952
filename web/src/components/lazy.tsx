import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.ts';
import { Loading } from './ui.tsx';

/**
 * A screen or part fetched when first shown: what only admins, technicians or the composer's audio tab use stays
 * out of the first load an officer's phone downloads over weak 4G. Once loaded it is kept for the session.
 */
export function lazy<P extends object>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | null = null;
  return function Lazy(props: P) {
    const [C, setC] = useState<FunctionComponent<P> | null>(() => loaded);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (C) return;
      load().then(
        (c) => ((loaded = c), setC(() => c)),
        () => setError(t('networkError')),
      );
    }, []);
    return C ? <C {...props} /> : <Loading error={error} />;
  };
}
