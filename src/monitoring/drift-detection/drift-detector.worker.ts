/**
 * Drift worker thread: runs {@link detectDrift} off the event loop (the MMD permutation test costs
 * tens of milliseconds per window; see `mmdPermutationTest`). Reference profiles are sent once per key
 * and kept, and with them the reference's own pairwise distances.
 */
import { parentPort } from 'node:worker_threads';
import { nameThisThread, THREAD_NAMES } from '../../shared/thread-cpu';
import { detectDrift } from './drift-detector';
import type { DetectMessage, DetectReply } from './worker-drift-detector';
import type { ReferenceProfile } from './reference-profile';

const port = parentPort;
if (!port) throw new Error('drift-detector.worker must run inside a worker thread');
nameThisThread(THREAD_NAMES.drift);
const profiles = new Map<string, ReferenceProfile>();

port.on('message', (m: DetectMessage) => {
  let reply: DetectReply;
  try {
    if (m.profile) profiles.set(m.profileKey, m.profile);
    const profile = profiles.get(m.profileKey);
    if (!profile) throw new Error(`unknown profile ${m.profileKey}`);
    reply = { id: m.id, results: detectDrift(profile, m.window, m.thresholds) };
  } catch (error) {
    reply = { id: m.id, error: (error as Error).message };
  }
  port.postMessage(reply);
});
