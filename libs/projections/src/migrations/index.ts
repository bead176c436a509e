import { ReadModels1732600000001 } from './1732600000001-read-models';
import { UnitSummaries1732600000002 } from './1732600000002-unit-summaries';
import { CalendarApplied1732600000004 } from './1732600000004-calendar-applied';
import { ReadModelDrift1732600000005 } from './1732600000005-read-model-drift';
import { PolicyLayers1732600000006 } from './1732600000006-policy-layers';
import { SmePayment1732600000007 } from './1732600000007-sme-payment';
import { OpenDeadlines1732600000150 } from './1732600000150-open-deadlines';
import { Webhooks1732600000151 } from './1732600000151-webhooks';
import { SmeInterestSummary1732600000152 } from './1732600000152-sme-interest-summary';

/** The read-model migrations, in order (they run after the event store's). */
export const READ_MODEL_MIGRATIONS = [
  ReadModels1732600000001,
  UnitSummaries1732600000002,
  CalendarApplied1732600000004,
  ReadModelDrift1732600000005,
  PolicyLayers1732600000006,
  SmePayment1732600000007,
  OpenDeadlines1732600000150,
  Webhooks1732600000151,
  SmeInterestSummary1732600000152,
];
