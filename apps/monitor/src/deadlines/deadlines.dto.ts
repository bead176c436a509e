import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { OBLIGATION_RULE_IDS } from '@app/domain';

/** `GET /v1/deadlines` parameters (SPEC §8). No `asOf`: upcoming is as of today. */
export class DeadlinesQuery {
  @ApiPropertyOptional({
    default: 3,
    minimum: 0,
    maximum: 30,
    description:
      'working days ahead (official calendar): deadlines from today to the N-th working day after it',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(30)
  within?: number;

  @ApiPropertyOptional({ description: 'purchasing unit code' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:/-]{1,64}$/)
  unit?: string;

  @ApiPropertyOptional({ example: '5001', description: 'region code prefix' })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9A-Za-z-]{1,32}$/)
  region?: string;

  @ApiPropertyOptional({ enum: OBLIGATION_RULE_IDS })
  @IsOptional()
  @IsIn(OBLIGATION_RULE_IDS)
  rule?: string;

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

class DeadlineUnitDoc {
  @ApiProperty({ example: 'U-500102-001' }) code!: string;
  @ApiProperty({ example: '重庆市涪陵区教育委员会', nullable: true, type: String })
  name!: string | null;
  @ApiProperty({ example: '500102', nullable: true, type: String }) region!: string | null;
}

class DeadlineSupplierDoc {
  @ApiProperty({ example: '91500102MA5U7QXX2B' }) creditCode!: string;
  @ApiProperty({ example: '重庆某某科技有限公司', nullable: true, type: String })
  name!: string | null;
  @ApiProperty({ nullable: true, type: Boolean, description: 'medium, small or micro' })
  sme!: boolean | null;
}

export class DeadlineItemDoc {
  @ApiProperty({ example: 'CQ-FL-2021-000123' }) contractId!: string;
  @ApiProperty({ enum: OBLIGATION_RULE_IDS, example: 'filing' }) rule!: string;
  @ApiProperty({ example: 'filing', description: 'the obligation within the contract' })
  key!: string;
  @ApiProperty({ example: 'chongqing-2021', nullable: true, type: String })
  policy!: string | null;
  @ApiProperty({ example: '政府采购法 art. 47', nullable: true, type: String })
  source!: string | null;
  @ApiProperty({ format: 'date', example: '2021-10-08' }) startedOn!: string;
  @ApiProperty({ format: 'date', example: '2021-10-19' }) deadline!: string;
  @ApiProperty({ example: 2, description: 'calendar days from today to the deadline (0: today)' })
  daysLeft!: number;
  @ApiProperty({
    example: 1,
    description: 'working days after today up to the deadline (official calendar; 0: today)',
  })
  workingDaysLeft!: number;
  @ApiProperty({ type: DeadlineUnitDoc, nullable: true }) unit!: DeadlineUnitDoc | null;
  @ApiProperty({ type: DeadlineSupplierDoc, nullable: true })
  supplier!: DeadlineSupplierDoc | null;
  @ApiProperty({ description: 'the deadline needs a year with no official calendar yet' })
  provisional!: boolean;
}

export class DeadlinePageDoc {
  @ApiProperty({ format: 'date', description: 'today (Asia/Shanghai)' }) asOf!: string;
  @ApiProperty({ example: 3 }) within!: number;
  @ApiProperty({ format: 'date', description: 'the last day within N working days' })
  until!: string;
  @ApiProperty() page!: number;
  @ApiProperty() pageSize!: number;
  @ApiProperty() hasMore!: boolean;
  @ApiProperty({ type: [DeadlineItemDoc] }) items!: DeadlineItemDoc[];
}
