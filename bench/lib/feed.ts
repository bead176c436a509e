import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Envelope, GeneratorInput } from '../generator';

/**
 * The generated feed in chunks of `size`, from a worker thread (feed-worker.ts), for the
 * in-process measures. The generator plans each contract's whole history when it awards it
 * and holds the planned events until their day: at large its heap grows past 2 GB, and in the
 * measuring thread's heap every garbage collection had to mark it. The command path at large
 * spent 23.3 of its 43.9 µs of Node time an event in collection pauses (session 13); the
 * worker's heap is its own. A chunk is asked for, generated and handed over (a structured
 * clone) before the clock starts again, so the worker does not run during a timed section.
 */
export async function* feedChunks(gen: GeneratorInput, size: number): AsyncGenerator<Envelope[]> {
  // the worker runs the TypeScript source as this process does (node -r @swc-node/register)
  const worker = new Worker(`require(${JSON.stringify(join(__dirname, 'feed-worker.ts'))})`, {
    eval: true,
    workerData: { gen, size },
    resourceLimits: { maxOldGenerationSizeMb: 4096 },
  });
  try {
    for (;;) {
      const chunk = await new Promise<Envelope[] | null>((resolve, reject) => {
        const onError = (err: Error) => {
          worker.off('message', onMessage);
          reject(err);
        };
        const onMessage = (m: Envelope[] | null) => {
          worker.off('error', onError);
          resolve(m);
        };
        worker.once('message', onMessage);
        worker.once('error', onError);
        worker.postMessage('next');
      });
      if (chunk === null) return;
      yield chunk;
    }
  } finally {
    await worker.terminate();
  }
}
