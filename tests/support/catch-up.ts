import type { INestApplication } from '@nestjs/common';
import { ComplianceProjector, PROJECTION_NAME, ProjectorDaemon } from '@app/projections';

/**
 * Projects until the checkpoint has reached the head of the store. Gap-safe reads wait for
 * every older transaction of the cluster (other suites' too), so one `catchUp()` may stop
 * short of events just stored.
 */
export async function catchUpToHead(app: INestApplication): Promise<void> {
  const daemon = app.get(ProjectorDaemon);
  const projector = app.get(ComplianceProjector);
  for (let i = 0; ; i++) {
    await daemon.catchUp();
    if ((await projector.lag(PROJECTION_NAME)).behind === 0) return;
    if (i > 600) throw new Error('the projector did not catch up');
    await new Promise((r) => setTimeout(r, 50));
  }
}
