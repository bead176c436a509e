import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { OBLIGATION_RULE_IDS } from '@app/domain';
import { REGION_PREFIX_PATTERN } from '@app/platform';
import { AsOfQuery, IsBusinessDate } from '../compliance/query-params.dto';

export class OverviewQuery extends AsOfQuery {
  @ApiPropertyOptional({ example: '5001', description: 'region code prefix' })
  @IsOptional()
  @IsString()
  @Matches(REGION_PREFIX_PATTERN)
  region?: string;
}

/** `YYYY-MM`, a month of 2000–2100. */
export const MONTH_PATTERN = /^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$/;

export class TrendsQuery extends AsOfQuery {
  @ApiPropertyOptional({
    example: '2021-01',
    description: 'first month of deadline, YYYY-MM; default 11 months before `to`',
  })
  @IsOptional()
  @IsString()
  @Matches(MONTH_PATTERN, { message: 'from must be a month YYYY-MM between 2000-01 and 2100-12' })
  from?: string;

  @ApiPropertyOptional({
    example: '2021-12',
    description: 'last month of deadline, YYYY-MM; default the month of asOf',
  })
  @IsOptional()
  @IsString()
  @Matches(MONTH_PATTERN, { message: 'to must be a month YYYY-MM between 2000-01 and 2100-12' })
  to?: string;

  @ApiPropertyOptional({ example: '5001', description: 'region code prefix' })
  @IsOptional()
  @IsString()
  @Matches(REGION_PREFIX_PATTERN)
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
}

export class RegionsQuery extends AsOfQuery {
  @ApiPropertyOptional({ enum: OBLIGATION_RULE_IDS })
  @IsOptional()
  @IsIn(OBLIGATION_RULE_IDS)
  rule?: string;
}

export class PlatformLagQuery {
  @ApiPropertyOptional({
    example: '2021-10-01',
    description: 'recorded on or after this business date (Asia/Shanghai); default `to` − 29 days',
  })
  @IsOptional()
  @IsBusinessDate()
  from?: string;

  @ApiPropertyOptional({
    example: '2021-10-31',
    description: 'recorded on or before this business date; default today',
  })
  @IsOptional()
  @IsBusinessDate()
  to?: string;
}
