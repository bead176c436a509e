import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { RULE_IDS, type RuleId } from '@app/contracts';

export class RecordExemptionDto {
  @ApiProperty({ enum: RULE_IDS })
  @IsIn(RULE_IDS)
  rule!: RuleId;

  @ApiPropertyOptional({
    example: 'payment:INV-001',
    description: 'obligation key; defaults to the rule id',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z]+(:[A-Za-z0-9._:/-]{1,64})?$/)
  key?: string;

  @ApiProperty({ description: '正当理由 — the justification, kept in the history' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  reason!: string;
}
