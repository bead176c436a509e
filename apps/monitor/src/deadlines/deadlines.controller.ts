import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { todayInShanghai } from '@app/domain';
import { ListDeadlinesQuery } from '@app/projections';
import { Clock, Roles, Scope, type PrincipalScope } from '@app/platform';
import { DeadlinePageDoc, DeadlinesQuery } from './deadlines.dto';

/** SPEC §8: what is about to be late. */
@ApiTags('compliance')
@Controller('v1')
export class DeadlinesController {
  constructor(
    private readonly queries: QueryBus,
    private readonly clock: Clock,
  ) {}

  @Get('deadlines')
  @Roles('inspector')
  @ApiOperation({
    summary: 'Open obligations due within N working days, soonest first',
    description:
      'Not fulfilled, exempted or cancelled, deadline from today (Asia/Shanghai) to the N-th ' +
      'working day after it by the official calendar (make-up working days included). Scoped ' +
      'like every inspector read: a region-limited inspector sees only its regions.',
  })
  @ApiOkResponse({ type: DeadlinePageDoc })
  deadlines(@Query() q: DeadlinesQuery, @Scope() scope: PrincipalScope | undefined) {
    return this.queries.execute(
      new ListDeadlinesQuery(
        {
          today: todayInShanghai(this.clock.now()),
          within: q.within ?? 3,
          unit: q.unit,
          region: q.region,
          rule: q.rule,
        },
        q.page ?? 1,
        q.pageSize ?? 50,
        scope,
      ),
    );
  }
}
