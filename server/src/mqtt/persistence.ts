import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

const require = createRequire(import.meta.url);
// Subclassed rather than replaced: everything but retained look-ups stays aedes' own, tested code.
const AsyncPersistence = require('aedes-persistence/asyncPersistence.js');
const { CallBackPersistence } = require('aedes-persistence/callBackPersistence.js');

interface RetainedPacket {
  topic: string;
  payload: Buffer;
}

const hasWildcard = (p: string) => p.includes('+') || p.includes('#');

/**
 * aedes' in-memory persistence finds retained messages for a SUBSCRIBE by testing every retained topic against
 * the pattern. With one retained status and one retained config per cluster, a reconnect storm of N clusters costs
 * O(N²) matches (10,000 clusters: hundreds of millions). Device subscriptions are exact topics (the ACL forbids
 * wildcards), so an exact-topic index answers them in O(1); wildcard patterns (none from devices) use the scan.
 */
class IndexedRetainedPersistence extends AsyncPersistence {
  private exact = new Map<string, RetainedPacket>();

  constructor(opts: unknown) {
    super(opts);
  }

  async storeRetained(pkt: RetainedPacket): Promise<void> {
    await super.storeRetained(pkt);
    if (pkt.payload.length === 0) this.exact.delete(pkt.topic);
    else this.exact.set(pkt.topic, { ...pkt });
  }

  createRetainedStream(pattern: string): Readable {
    if (hasWildcard(pattern)) return super.createRetainedStream(pattern);
    const hit = this.exact.get(pattern);
    return Readable.from(hit ? [hit] : []);
  }

  createRetainedStreamCombi(patterns: string[]): Readable {
    if (patterns.some(hasWildcard)) return super.createRetainedStreamCombi(patterns);
    const hits = patterns.map((p) => this.exact.get(p)).filter((x): x is RetainedPacket => !!x);
    return Readable.from(hits);
  }
}

export function indexedPersistence(): unknown {
  return new CallBackPersistence((opts: unknown) => new IndexedRetainedPersistence(opts), {});
}
