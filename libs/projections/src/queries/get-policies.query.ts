import { Query } from '@nestjs/cqrs';
import type { StoredPolicyLayer } from '../policy.service';

export interface PoliciesView {
  /** a stored change the projector has not applied to the stored contracts yet */
  pending: boolean;
  layers: StoredPolicyLayer[];
}

/** `GET /v1/policies`: the layers in force with versions and history; marks nothing. */
export class GetPoliciesQuery extends Query<PoliciesView> {}
