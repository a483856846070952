/**
 * LOA_ICECAST_URL = http://source:password@host:port[/prefix]: where the server pushes each live stream as a source
 * client, and where clusters then listen (the same host, mount /{streamId}.ogg). Empty = the server serves streams
 * itself.
 */
export function icecastTarget(url: string): { pushBase: string; password: string; listenBase: string } | null {
  if (!url) return null;
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const base = u.toString().replace(/\/$/, '');
  return { pushBase: base, password, listenBase: base };
}
