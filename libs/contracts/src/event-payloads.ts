import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  INVOICE_STAGES,
  PAYMENT_KINDS,
  PROCUREMENT_METHODS,
  RULE_IDS,
  PAYMENT_CONDITIONS,
  type PaymentCondition,
  SUPPLIER_SIZES,
  type EventType,
  type InvoiceStage,
  type PaymentKind,
  type ProcurementMethod,
  type RuleId,
  type SupplierSize,
} from './event-types';
import { RATE_PATTERN, RATIO_PATTERN } from './money';
import { IsCreditCode, IsMoney } from './validators';

/** A code or number of ours (unit, project, invoice, payment): 1-64 of `[A-Za-z0-9._:/-]`. */
export const CODE_PATTERN = /^[A-Za-z0-9._:/-]{1,64}$/;
/** An administrative division code of a purchasing unit. */
export const REGION_PATTERN = /^[0-9A-Za-z-]{1,32}$/;

/**
 * Length limits (class-validator's MaxLength, which counts a surrogate pair as one character)
 * and integer ranges of payload fields, shared by the decorators below and the fast check of
 * valid events (payload-checks.ts).
 */
export const FIELD_LIMITS = {
  /** names of a purchasing unit and of a supplier */
  name: 200,
  projectName: 300,
  projectMethod: 50,
  /** urls and reasons */
  text: 2000,
  obligationKey: 80,
  acceptanceWorkingDays: { min: 1, max: 60 },
  paymentTermDays: { min: 1, max: 3650 },
} as const;
const L = FIELD_LIMITS;

export class PurchasingUnitDto {
  @ApiProperty({
    example: '11500102MB1234567X',
    description: 'purchasing unit code (采购单位编码)',
  })
  @IsString()
  @Matches(CODE_PATTERN, { message: 'code must be 1-64 characters of [A-Za-z0-9._:/-]' })
  code!: string;

  @ApiProperty({ example: '重庆市涪陵区教育委员会' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(L.name)
  name!: string;

  @ApiPropertyOptional({ example: '500102', description: 'administrative division code' })
  @IsOptional()
  @IsString()
  @Matches(REGION_PATTERN, { message: 'region must be 1-32 characters of [0-9A-Za-z-]' })
  region?: string;
}

export class SupplierDto {
  @ApiProperty({ example: '91500102MA5U7QXX2B', description: 'unified social credit code' })
  @IsCreditCode()
  creditCode!: string;

  @ApiProperty({ example: '重庆某某科技有限公司' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(L.name)
  name!: string;

  @ApiProperty({ enum: SUPPLIER_SIZES })
  @IsIn(SUPPLIER_SIZES)
  size!: SupplierSize;
}

export class ProjectDto {
  @ApiProperty({ example: 'FLCG-2021-0456' })
  @IsString()
  @Matches(CODE_PATTERN, { message: 'code must be 1-64 characters of [A-Za-z0-9._:/-]' })
  code!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(L.projectName)
  name?: string;

  @ApiPropertyOptional({ example: '公开招标' })
  @IsOptional()
  @IsString()
  @MaxLength(L.projectMethod)
  method?: string;
}

export class AwardNoticeIssuedData {
  @ApiProperty({ type: PurchasingUnitDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => PurchasingUnitDto)
  purchasingUnit!: PurchasingUnitDto;

  @ApiProperty({ type: SupplierDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => SupplierDto)
  supplier!: SupplierDto;

  @ApiProperty({ type: ProjectDto })
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => ProjectDto)
  project!: ProjectDto;

  @ApiProperty({ example: '1250000.00' })
  @IsMoney()
  awardAmount!: string;
}

export class ContractSignedData {
  @ApiProperty({ example: '1250000.00' })
  @IsMoney()
  amount!: string;

  @ApiPropertyOptional({ example: '0.30', description: 'agreed prepayment ratio, 0-1' })
  @IsOptional()
  @IsString()
  @Matches(RATIO_PATTERN, { message: 'prepaymentRatio must be a decimal string from 0 to 1' })
  prepaymentRatio?: string;

  @ApiPropertyOptional({
    example: 7,
    description:
      'acceptance period the contract states, in working days (1-60); the national policy monitors acceptance only with it',
  })
  @IsOptional()
  @IsInt()
  @Min(L.acceptanceWorkingDays.min)
  @Max(L.acceptanceWorkingDays.max)
  acceptanceWorkingDays?: number;

  @ApiPropertyOptional({
    enum: PAYMENT_CONDITIONS,
    default: 'acceptance',
    description:
      'what starts the SME payment clock (保障中小企业款项支付条例 arts. 9, 10): passed acceptance (default) or delivery (PerformanceCompleted)',
  })
  @IsOptional()
  @IsIn(PAYMENT_CONDITIONS)
  paymentCondition?: PaymentCondition;

  @ApiPropertyOptional({
    example: 45,
    description:
      'the payment term the contract agrees, in calendar days (art. 9: at most 60; a longer one is flagged PAYMENT_TERM.OVER_LIMIT and counted as 60); default 30',
  })
  @IsOptional()
  @IsInt()
  @Min(L.paymentTermDays.min)
  @Max(L.paymentTermDays.max)
  paymentTermDays?: number;

  @ApiPropertyOptional({
    example: '0.0365',
    description:
      'agreed annual late-payment interest rate, decimal 0-1 (daily = annual / 360); without it 0.05% a day (art. 17)',
  })
  @IsOptional()
  @IsString()
  @Matches(RATE_PATTERN, {
    message: 'lateInterestRate must be a decimal string from 0 to 1 with at most 8 decimals',
  })
  lateInterestRate?: string;
}

export class ContractAnnouncedData {
  @ApiPropertyOptional({ example: 'https://www.ccgp-chongqing.gov.cn/...' })
  @IsOptional()
  @IsString()
  @MaxLength(L.text)
  url?: string;
}

export class EmptyData {}

export class AcceptanceCompletedData {
  @ApiProperty()
  @IsBoolean()
  passed!: boolean;
}

export class InvoiceReceivedData {
  @ApiProperty({ example: 'INV-001' })
  @IsString()
  @Matches(CODE_PATTERN, { message: 'invoiceNo must be 1-64 characters of [A-Za-z0-9._:/-]' })
  invoiceNo!: string;

  @ApiProperty({ example: '500000.00' })
  @IsMoney()
  amount!: string;

  @ApiProperty({ enum: INVOICE_STAGES })
  @IsIn(INVOICE_STAGES)
  stage!: InvoiceStage;
}

export class PaymentMadeData {
  @ApiProperty({ example: 'PAY-001' })
  @IsString()
  @Matches(CODE_PATTERN, { message: 'paymentId must be 1-64 characters of [A-Za-z0-9._:/-]' })
  paymentId!: string;

  @ApiProperty({ example: '500000.00' })
  @IsMoney()
  amount!: string;

  @ApiProperty({ enum: PAYMENT_KINDS })
  @IsIn(PAYMENT_KINDS)
  kind!: PaymentKind;

  @ApiPropertyOptional({ example: 'INV-001' })
  @IsOptional()
  @IsString()
  @Matches(CODE_PATTERN, { message: 'invoiceNo must be 1-64 characters of [A-Za-z0-9._:/-]' })
  invoiceNo?: string;
}

export class ContractTerminatedData {
  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(L.text)
  reason!: string;
}

export class EventRetractedData {
  @ApiProperty()
  @IsUUID()
  retractedEventId!: string;

  @ApiProperty()
  @IsString()
  @IsNotEmpty()
  @MaxLength(L.text)
  reason!: string;
}

export class ObligationExemptedData {
  @ApiProperty({ enum: RULE_IDS })
  @IsIn(RULE_IDS)
  rule!: RuleId;

  @ApiPropertyOptional({
    example: 'payment:INV-001',
    description: 'obligation key; defaults to the rule id (payment obligations need it)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(L.obligationKey)
  key?: string;

  @ApiProperty({ description: '正当理由' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(L.text)
  reason!: string;
}

/** 采购意向公开 (财库〔2020〕10号): the unit published its procurement intention. */
export class ProcurementIntentionPublishedData {
  @ApiPropertyOptional({ example: 'https://www.ccgp-chongqing.gov.cn/...' })
  @IsOptional()
  @IsString()
  @MaxLength(L.text)
  url?: string;

  @ApiPropertyOptional({ example: '1300000.00' })
  @IsOptional()
  @IsMoney()
  budgetAmount?: string;
}

/** 采购公告: the procurement activity starts (the intention is due 30 days before it). */
export class ProcurementNoticePublishedData {
  @ApiPropertyOptional({ enum: PROCUREMENT_METHODS })
  @IsOptional()
  @IsIn(PROCUREMENT_METHODS)
  method?: ProcurementMethod;
}

/** The payload class of each event type, used by every door (HTTP, Kafka). */
export const PAYLOAD_CLASSES: Record<EventType, new () => object> = {
  AwardNoticeIssued: AwardNoticeIssuedData,
  ContractSigned: ContractSignedData,
  ContractAnnounced: ContractAnnouncedData,
  ContractFiled: EmptyData,
  PerformanceCompleted: EmptyData,
  AcceptanceCompleted: AcceptanceCompletedData,
  InvoiceReceived: InvoiceReceivedData,
  PaymentMade: PaymentMadeData,
  ContractTerminated: ContractTerminatedData,
  EventRetracted: EventRetractedData,
  ObligationExempted: ObligationExemptedData,
  ProcurementIntentionPublished: ProcurementIntentionPublishedData,
  ProcurementNoticePublished: ProcurementNoticePublishedData,
};
