import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';
import { REGION_PREFIX_PATTERN } from '@app/platform';
import { AsOfQuery } from '../compliance/query-params.dto';

export class OverviewQuery extends AsOfQuery {
  @ApiPropertyOptional({ example: '5001', description: 'region code prefix' })
  @IsOptional()
  @IsString()
  @Matches(REGION_PREFIX_PATTERN)
  region?: string;
}
