import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { IsBusinessDate } from '../compliance/query-params.dto';

export class SmeOverdueParams {
  @ApiProperty({
    example: 2025,
    description: 'the year reported: overdue and unpaid on 31 December',
  })
  @Type(() => Number)
  @IsInt()
  @Min(2000)
  @Max(2100)
  year!: number;

  @ApiPropertyOptional({ example: '5001', description: 'region code prefix' })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9A-Za-z-]{1,32}$/)
  region?: string;

  @ApiPropertyOptional({ description: 'purchasing unit code' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:/-]{1,64}$/)
  unit?: string;
}

export class PaymentPerformanceParams {
  @ApiProperty({ example: '2025-01-01', description: 'first day a full payment counts' })
  @IsBusinessDate()
  from!: string;

  @ApiProperty({ example: '2025-12-31', description: 'last day a full payment counts' })
  @IsBusinessDate()
  to!: string;
}
