import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DeviceDirectory } from './directory.ts';

/**
 * HTTP Basic with the device's own MQTT credentials (username = cluster id, password = secret), so a cluster needs
 * one secret for everything it does. Sets request.deviceId.
 */
export function deviceAuth(directory: DeviceDirectory, onFail: () => void) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const h = req.headers.authorization ?? '';
    const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(h);
    const [user, ...rest] = m ? Buffer.from(m[1], 'base64').toString('utf8').split(':') : [];
    if (!user || !directory.authenticate(user, rest.join(':'))) {
      onFail();
      return reply
        .status(401)
        .header('www-authenticate', 'Basic realm="loa-device"')
        .send({ statusCode: 401, error: 'Unauthorized', message: 'device credentials required (Basic clusterId:secret)' });
    }
    req.deviceId = user;
  };
}
