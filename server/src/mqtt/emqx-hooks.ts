import { createHash, timingSafeEqual } from 'node:crypto';
import type { EmqxAuthnRequest, EmqxAuthnResponse, EmqxAuthzRequest, EmqxAuthzResponse } from '../../../schemas/api/emqx.ts';
import {
  deviceConnectRefusal,
  devicePublishRefusal,
  deviceSubscribeRefusal,
  serverPublishRefusal,
  serverSubscribeRefusal,
  type AclDirectory,
} from './acl.ts';

export interface EmqxHooksOptions {
  directory: AclDirectory & { hasCredential(clusterId: string): boolean };
  /** LOA_MQTT_USERNAME / LOA_MQTT_PASSWORD: the account every server instance logs in to EMQX with */
  serverUsername: string;
  serverPassword: string;
  onReject: (clusterId: string | null, reason: string, detail?: string) => void;
}

/** Equal strings, in time that depends on neither: both are hashed first, so not even their lengths leak. */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const ALLOW_AUTHN: EmqxAuthnResponse = { result: 'allow', is_superuser: false };
const DENY_AUTHN: EmqxAuthnResponse = { result: 'deny', is_superuser: false };
const ALLOW: EmqxAuthzResponse = { result: 'allow' };
const DENY: EmqxAuthzResponse = { result: 'deny' };

/**
 * EMQX's HTTP authentication and authorisation, answered with the embedded broker's decisions (acl.ts), so a device
 * connects to EMQX with its own credentials and meets the ACL it meets on the embedded broker.
 *
 * Never "ignore": an unknown login is refused here rather than left to whatever else the chain holds, and no account
 * is a superuser — the server's own has exactly what the link uses (acl.ts, serverPublishRefusal and
 * serverSubscribeRefusal). Authorisation checks the credential again because, unlike the embedded broker, EMQX keeps
 * a revoked device's session: this is where revocation bites (docs/emqx.md, the authorisation cache).
 */
export class EmqxHooks {
  constructor(private o: EmqxHooksOptions) {}

  private isServer(username: string): boolean {
    return !!this.o.serverUsername && username === this.o.serverUsername;
  }

  authenticate(b: EmqxAuthnRequest): EmqxAuthnResponse {
    const { clientid, username, password } = b;
    if (this.isServer(username)) {
      // An unset server password never matches, not even an empty one.
      if (this.o.serverPassword && sameSecret(password, this.o.serverPassword)) return ALLOW_AUTHN;
      this.o.onReject(null, 'bad_credentials', `server account as ${clientid}`);
      return DENY_AUTHN;
    }
    const refused = deviceConnectRefusal(this.o.directory, clientid, username, password);
    if (!refused) return ALLOW_AUTHN;
    if (refused === 'client_id_mismatch') this.o.onReject(null, refused, `${username} as ${clientid}`);
    else this.o.onReject(refused === 'bad_credentials' && this.o.directory.has(username) ? username : null, refused);
    return DENY_AUTHN;
  }

  authorize(b: EmqxAuthzRequest): EmqxAuthzResponse {
    const ask = { topic: b.topic, qos: Number(b.qos), retain: b.retain === 'true' };
    // 'all' is a rule's action, not a request's; asked anyway, it needs both.
    const actions = b.action === 'all' ? (['publish', 'subscribe'] as const) : [b.action];
    for (const action of actions) {
      const refused = this.refusal(b, action, ask);
      if (refused) {
        this.o.onReject(this.o.directory.has(b.clientid) ? b.clientid : null, refused, `${action} ${b.topic}`);
        return DENY;
      }
    }
    return ALLOW;
  }

  private refusal(b: EmqxAuthzRequest, action: 'publish' | 'subscribe', ask: { topic: string; qos: number; retain: boolean }): string | null {
    if (this.isServer(b.username)) return action === 'publish' ? serverPublishRefusal(ask) : serverSubscribeRefusal(b.topic);
    if (!b.username) return 'anonymous';
    if (b.username !== b.clientid) return 'client_id_mismatch';
    if (!this.o.directory.hasCredential(b.clientid)) return 'revoked';
    const { directory } = this.o;
    return action === 'publish' ? devicePublishRefusal(b.clientid, ask) : deviceSubscribeRefusal(b.clientid, b.topic, (id) => directory.groupsOf(id));
  }
}
