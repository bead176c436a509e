import { ApiProperty } from '@nestjs/swagger';
import { NOTIFICATION_KINDS } from '@app/projections';

class PayloadObligationDoc {
  @ApiProperty({ example: 'filing' }) rule!: string;
  @ApiProperty({ example: 'filing' }) key!: string;
  @ApiProperty({ format: 'date' }) startedOn!: string;
  @ApiProperty({ format: 'date' }) deadline!: string;
  @ApiProperty({ format: 'date', nullable: true, type: String }) fulfilledOn!: string | null;
  @ApiProperty({ enum: ['pending', 'overdue', 'late'], description: 'as of decidedOn' })
  status!: string;
  @ApiProperty({ nullable: true, type: Number, description: 'calendar days left (pending)' })
  daysLeft!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'working days left (pending)' })
  workingDaysLeft!: number | null;
  @ApiProperty({
    description: 'calendar days past the deadline (overdue: so far; late: at fulfilment)',
  })
  delayDays!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'the same in working days (working-day rules)',
  })
  delayWorkingDays!: number | null;
  @ApiProperty() provisional!: boolean;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'chongqing-2021',
    description: 'the policy layer (SPEC §6)',
  })
  policy!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: '政府采购法 art. 47',
    description: 'its article',
  })
  source!: string | null;
}

class PayloadContractDoc {
  @ApiProperty() contractId!: string;
  @ApiProperty({ nullable: true, type: String }) projectCode!: string | null;
  @ApiProperty({ nullable: true, type: String }) projectName!: string | null;
  @ApiProperty({ nullable: true, type: String, example: '1250000.00', description: 'yuan' })
  amount!: string | null;
}

class PayloadUnitDoc {
  @ApiProperty() code!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
}

class PayloadSupplierDoc {
  @ApiProperty() creditCode!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ nullable: true, type: Boolean }) sme!: boolean | null;
}

/**
 * The JSON body of a webhook delivery (POST to the subscription's URL). Headers:
 * `X-Delivery-Id` (= deliveryId, the same on every attempt: deduplicate by it),
 * `X-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the subscription's secret>`,
 * `X-Webhook-Kind`, `X-Delivery-Attempt`. Answer 2xx to acknowledge.
 */
export class WebhookPayloadDoc {
  @ApiProperty({ format: 'uuid' }) deliveryId!: string;
  @ApiProperty({ format: 'uuid' }) subscriptionId!: string;
  @ApiProperty({ enum: NOTIFICATION_KINDS }) kind!: string;
  @ApiProperty({ format: 'date-time' }) decidedAt!: string;
  @ApiProperty({ format: 'date', description: 'the business day (Asia/Shanghai) of the decision' })
  decidedOn!: string;
  @ApiProperty({ type: PayloadObligationDoc }) obligation!: PayloadObligationDoc;
  @ApiProperty({ type: PayloadContractDoc }) contract!: PayloadContractDoc;
  @ApiProperty({ type: PayloadUnitDoc, nullable: true }) unit!: PayloadUnitDoc | null;
  @ApiProperty({ type: PayloadSupplierDoc, nullable: true }) supplier!: PayloadSupplierDoc | null;
  @ApiProperty({
    example: 'https://monitor.example.gov.cn/contracts/CQ-FL-2021-000123',
    description: '`${PUBLIC_URL}/contracts/{contractId}`: the dashboard page',
  })
  link!: string;
}
