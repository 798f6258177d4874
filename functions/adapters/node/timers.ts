import { setTimeout } from 'node:timers/promises';
import type { Pause } from '../../core/ports.js';

/** The core's `Pause` on Node's timers: real milliseconds, whatever a scaled or virtual clock shows. */
export const realPause: Pause = async (ms) => {
  await setTimeout(ms);
};
