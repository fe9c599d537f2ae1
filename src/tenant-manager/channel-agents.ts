import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { TransportChannel } from './tenant-manager.transport.js';

// Replay, poll and a resync at most run at once on the events channel.
const EVENTS_SOCKETS = 4;

/**
 * A transport's own keep-alive pools, one per channel, so a stuck status write never
 * holds up a poll. `destroy()` on them drops the sockets; the agents stay usable.
 */
export function createChannelAgents(https: boolean, statusSockets: number): Record<TransportChannel, HttpAgent> {
  const Agent = https ? HttpsAgent : HttpAgent;
  return {
    events: new Agent({ keepAlive: true, maxSockets: EVENTS_SOCKETS }),
    status: new Agent({ keepAlive: true, maxSockets: statusSockets }),
  };
}
