import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { OBLIGATION_RULE_IDS } from '@app/domain';
import { NOTIFICATION_KINDS } from '@app/projections';

/** `POST /v1/admin/webhooks` (SPEC §8). */
export class CreateWebhookDto {
  @ApiProperty({
    example: 'https://sms-gateway.example.gov.cn/hooks/compliance',
    description: 'https:// (http:// only to a loopback host); private addresses refused',
  })
  @IsString()
  @MaxLength(4096)
  url!: string;

  @ApiProperty({ enum: NOTIFICATION_KINDS, isArray: true })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @ArrayMaxSize(NOTIFICATION_KINDS.length)
  @IsIn(NOTIFICATION_KINDS, { each: true })
  events!: string[];

  @ApiPropertyOptional({ example: '5001', description: 'region code prefix of the unit' })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9A-Za-z-]{1,32}$/)
  region?: string;

  @ApiPropertyOptional({ description: 'purchasing unit code' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:/-]{1,64}$/)
  unit?: string;

  @ApiPropertyOptional({ enum: OBLIGATION_RULE_IDS })
  @IsOptional()
  @IsIn(OBLIGATION_RULE_IDS)
  rule?: string;

  @ApiPropertyOptional({
    default: 3,
    minimum: 0,
    maximum: 30,
    description: '`obligation.due_soon` once at most this many working days are left',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(30)
  dueSoonWorkingDays?: number;
}

export class DeliveriesQuery {
  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'cancelled'] })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'cancelled'])
  status?: 'pending' | 'delivered' | 'cancelled';

  @ApiPropertyOptional({ default: 1, minimum: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100000)
  page?: number;

  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  pageSize?: number;
}

class DeliveryCountsDoc {
  @ApiProperty() pending!: number;
  @ApiProperty() delivered!: number;
  @ApiProperty() cancelled!: number;
}

export class WebhookDoc {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ enum: NOTIFICATION_KINDS, isArray: true }) events!: string[];
  @ApiProperty({ nullable: true, type: String }) region!: string | null;
  @ApiProperty({ nullable: true, type: String }) unit!: string | null;
  @ApiProperty({ nullable: true, type: String }) rule!: string | null;
  @ApiProperty() dueSoonWorkingDays!: number;
  @ApiProperty({
    format: 'date',
    description: 'the day it was created: overdue and late fulfilment from then on',
  })
  since!: string;
  @ApiProperty({ enum: ['active', 'paused'] }) state!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty() createdBy!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) failingSince!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) pausedAt!: string | null;
  @ApiProperty({ type: DeliveryCountsDoc }) deliveries!: DeliveryCountsDoc;
}

export class CreatedWebhookDoc extends WebhookDoc {
  @ApiProperty({
    description: 'the HMAC-SHA256 key of X-Signature-256: shown here once, never again',
  })
  secret!: string;
}

export class DeliveryDoc {
  @ApiProperty({ format: 'uuid', description: 'the X-Delivery-Id' }) deliveryId!: string;
  @ApiProperty({ enum: NOTIFICATION_KINDS }) kind!: string;
  @ApiProperty() contractId!: string;
  @ApiProperty() obligationKey!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'cancelled'] }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ format: 'date-time' }) decidedAt!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastAttemptAt!: string | null;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode!: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'HTTP 500' }) lastError!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) nextAttemptAt!: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) deliveredAt!: string | null;
}

export class DeliveryPageDoc {
  @ApiProperty() page!: number;
  @ApiProperty() pageSize!: number;
  @ApiProperty() hasMore!: boolean;
  @ApiProperty({ type: [DeliveryDoc] }) items!: DeliveryDoc[];
}
