/**
 * What a webhook subscription may ask for (SPEC §8): an open obligation within its
 * subscription's `dueSoonWorkingDays` of the deadline; an obligation whose deadline passed
 * unfulfilled; one fulfilled after its deadline.
 */
export const NOTIFICATION_KINDS = [
  'obligation.due_soon',
  'obligation.overdue',
  'obligation.fulfilled_late',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
