import { parentPort, workerData } from 'node:worker_threads';
import { generateEvents, inChunks, type GeneratorInput } from '../generator';

/**
 * The generated feed in chunks, one per request of the parent (feed.ts): generated here, in a
 * heap of its own, only while the parent waits for it.
 */
const { gen, size } = workerData as { gen: GeneratorInput; size: number };
const chunks = inChunks(generateEvents(gen), size);
parentPort!.on('message', () => {
  const next = chunks.next();
  parentPort!.postMessage(next.done ? null : next.value);
});
