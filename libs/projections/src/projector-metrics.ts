import { Injectable } from '@nestjs/common';
import { Metrics } from '@app/platform';
import { ProjectorDaemon, type ProjectorState } from './projector.daemon';
import { PROJECTION_NAME } from './read-model-ddl';

const STATES: ProjectorState[] = [
  'disabled',
  'standby',
  'running',
  'caught-up',
  'behind',
  'error',
  'stopped',
];

/**
 * The projector daemon's figures in the application's registry, read at scrape time: its
 * state, and while this instance leads, its position and how far behind the store it is;
 * the duration of each batch that projected events.
 */
@Injectable()
export class ProjectorMetrics {
  constructor(metrics: Metrics, daemon: ProjectorDaemon) {
    const projection = PROJECTION_NAME;
    const leading = () => ['running', 'caught-up', 'behind', 'error'].includes(daemon.state);
    metrics.gauge({
      name: 'projector_state',
      help: 'The projector of this instance: 1 for its current state (standby: another instance leads; disabled: ROLE_PROJECTOR=false).',
      labelNames: ['projection', 'state'],
      collect() {
        for (const state of STATES) this.set({ projection, state }, daemon.state === state ? 1 : 0);
      },
    });
    metrics.gauge({
      name: 'projector_position',
      help: 'Global position of the projection checkpoint at the last count (while this instance leads).',
      labelNames: ['projection'],
      collect() {
        this.reset();
        if (leading() && daemon.position !== null)
          this.set({ projection }, Number(daemon.position));
      },
    });
    metrics.gauge({
      name: 'projector_lag_events',
      help: 'Events stored beyond the checkpoint at the last count, up to 100,000 (while this instance leads).',
      labelNames: ['projection'],
      collect() {
        this.reset();
        if (leading() && daemon.behind !== null) this.set({ projection }, daemon.behind);
      },
    });
    metrics.counter({
      name: 'projector_projected_events_total',
      help: 'Events this instance has projected.',
      labelNames: ['projection'],
      collect() {
        this.reset();
        this.inc({ projection }, daemon.projectedEvents);
      },
    });
    const duration = metrics.histogram({
      name: 'projector_batch_duration_seconds',
      help: 'Duration of each projector batch that projected events (PROJECTOR_BATCH_SIZE at most).',
      labelNames: ['projection'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    daemon.onBatch = (events, seconds) => {
      if (events > 0) duration.observe({ projection }, seconds);
    };
  }
}
