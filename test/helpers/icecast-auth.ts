/**
 * A real icecast2 on loopback whose mounts admit listeners only through Icecast 2's URL authentication
 * (`<authentication type="url">`, option listener_add), pointed at the server's POST /api/device/icecast-auth — the
 * configuration docs/device-protocol.md §10.8 tells operators to use. The port is chosen by the caller, since the
 * server (LOA_ICECAST_URL) must know it before Icecast can know the server's address.
 */
import { startIcecast, type IcecastServer } from './icecast.ts';

/**
 * The mount sections operators add (docs/device-protocol.template.md §10.8 shows the same): one per stream kind, by
 * wildcard (Icecast 2.4 matches <mount-name> with fnmatch). Not `<mount type="default">`: its authentication would
 * cover every request, status pages included. allow_duplicate_users: Debian's 2.4.4 refuses a second connection with
 * the same user name otherwise ("auth_new_listener client N failed"), so a device whose dropped connection Icecast
 * has not noticed yet could not reconnect.
 */
export const urlAuthMounts = (authUrl: string) =>
  ['/r-*.ogg', '/m-*.ogg'].map((name) => `<mount type="normal"><mount-name>${name}</mount-name>
    <authentication type="url">
      <option name="listener_add" value="${authUrl}"/>
      <option name="auth_header" value="icecast-auth-user: 1"/>
      <option name="allow_duplicate_users" value="1"/>
    </authentication>
  </mount>`).join('\n  ');

export type AuthIcecast = IcecastServer;

export function startAuthIcecast(o: { port: number; sourcePassword: string; authUrl: string }): Promise<AuthIcecast> {
  return startIcecast({ port: o.port, sourcePassword: o.sourcePassword, mountsXml: urlAuthMounts(o.authUrl) });
}
