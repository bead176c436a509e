import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { isBusinessDate, OBLIGATION_RULE_IDS } from '@app/domain';
import { ValidationFailed } from '@app/platform';
import { UNIT_SORTS, type UnitSort } from '@app/projections';

const OBLIGATION_RULES = OBLIGATION_RULE_IDS;

/** `YYYY-MM-DD`, a real calendar date. */
export function IsBusinessDate(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isBusinessDate',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (v: unknown) => isBusinessDate(v) && v >= '2000-01-01' && v <= '2100-12-31',
        defaultMessage: (a) =>
          `${a?.property} must be a date YYYY-MM-DD between 2000-01-01 and 2100-12-31`,
      },
    });
}

/** A route without query parameters: with the global ValidationPipe, any parameter is refused. */
export class NoQuery {}

export class AsOfQuery {
  @ApiPropertyOptional({
    example: '2021-10-20',
    description: 'business date (Asia/Shanghai); default today',
  })
  @IsOptional()
  @IsBusinessDate()
  asOf?: string;
}

export class PageQuery extends AsOfQuery {
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

export class UnitsQuery extends PageQuery {
  @ApiPropertyOptional({ example: '5001', description: 'region code prefix' })
  @IsOptional()
  @IsString()
  @Matches(/^[0-9A-Za-z-]{1,32}$/)
  region?: string;

  @ApiPropertyOptional({ enum: OBLIGATION_RULES })
  @IsOptional()
  @IsIn(OBLIGATION_RULES)
  rule?: string;

  @ApiPropertyOptional({
    enum: UNIT_SORTS,
    default: 'onTimeRate',
    description: 'onTimeRate = worst first',
  })
  @IsOptional()
  @IsIn(UNIT_SORTS)
  sort?: UnitSort;
}

// a mixin's base: TypeScript wants its constructor to take `...args: any[]`
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Constructor<T = object> = new (...args: any[]) => T;

/**
 * The deadline period `from` / `to` (both optional, inclusive), added to a query DTO: the
 * parameters of unit compliance and of the violation list.
 */
export function WithPeriod<B extends Constructor>(Base: B) {
  class PeriodQuery extends Base {
    @ApiPropertyOptional({ description: 'deadline on or after' })
    @IsOptional()
    @IsBusinessDate()
    from?: string;

    @ApiPropertyOptional({ description: 'deadline on or before' })
    @IsOptional()
    @IsBusinessDate()
    to?: string;
  }
  return PeriodQuery;
}

/** 400 REQUEST.VALIDATION_FAILED when the period ends before it starts. */
export function assertPeriod(q: { from?: string; to?: string }): void {
  if (q.from && q.to && q.from > q.to)
    throw new ValidationFailed('from must not be after to', [
      { path: 'from', message: 'from must not be after to' },
    ]);
}

export class ComplianceQuery extends WithPeriod(AsOfQuery) {}

class ViolationFilters extends PageQuery {
  @ApiPropertyOptional({ description: 'purchasing unit code' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._:/-]{1,64}$/)
  unit?: string;

  @ApiPropertyOptional({ enum: OBLIGATION_RULES })
  @IsOptional()
  @IsIn(OBLIGATION_RULES)
  rule?: string;

  @ApiPropertyOptional({ enum: ['late', 'overdue'] })
  @IsOptional()
  @IsIn(['late', 'overdue'])
  status?: 'late' | 'overdue';
}

export class ViolationsQuery extends WithPeriod(ViolationFilters) {}
