import { Type, type Static } from '@sinclair/typebox';

/**
 * The bodies EMQX 5 posts to its HTTP authenticator and HTTP authoriser, as docs/emqx.md configures their templates.
 * EMQX renders every placeholder of a JSON body as a string (emqx_auth_template render_deep_for_json), an unknown
 * or absent value as "" — so qos arrives as "1", retain as "false", and an anonymous client's username as "".
 * Other fields an operator adds to the template are ignored.
 */
const Text = (description: string) => Type.String({ maxLength: 65_535, description });

export const EmqxAuthnRequestSchema = Type.Object({
  clientid: Text('${clientid}'),
  username: Text('${username}; "" when the CONNECT had none'),
  password: Text('${password}; "" when the CONNECT had none'),
  peerhost: Type.Optional(Text('${peerhost}, for the log')),
});
export type EmqxAuthnRequest = Static<typeof EmqxAuthnRequestSchema>;

export const EmqxAuthzRequestSchema = Type.Object({
  clientid: Text('${clientid}'),
  username: Text('${username}'),
  topic: Type.String({ minLength: 1, maxLength: 65_535, description: '${topic}: the topic published, or the filter subscribed (without its $share/<group>/ prefix on EMQX 5)' }),
  action: Type.Union([Type.Literal('publish'), Type.Literal('subscribe'), Type.Literal('all')], { description: '${action}' }),
  qos: Type.Union([Type.Literal('0'), Type.Literal('1'), Type.Literal('2')], { description: '${qos} (EMQX ≥ 5.1.1)' }),
  retain: Type.Union([Type.Literal('true'), Type.Literal('false')], { description: '${retain} (EMQX ≥ 5.1.1); "false" for a subscribe' }),
  peerhost: Type.Optional(Text('${peerhost}, for the log')),
});
export type EmqxAuthzRequest = Static<typeof EmqxAuthzRequestSchema>;

export const EmqxAuthnResponseSchema = Type.Object({
  result: Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('ignore')]),
  is_superuser: Type.Boolean(),
});
export type EmqxAuthnResponse = Static<typeof EmqxAuthnResponseSchema>;

export const EmqxAuthzResponseSchema = Type.Object({
  result: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
});
export type EmqxAuthzResponse = Static<typeof EmqxAuthzResponseSchema>;
