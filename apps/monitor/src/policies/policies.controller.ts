import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppError, httpStatusOf, Principal, Roles } from '@app/platform';
import { GetPoliciesQuery, PolicyRefused, PolicyService } from '@app/projections';

/**
 * Policy layers (SPEC §6): which rule settings apply where and when. Read by inspectors and
 * admins; changed by admins, applied by the projector leader to every affected contract
 * (docs/decisions.md "Policies").
 */
@ApiTags('policies')
@Controller('v1')
export class PoliciesController {
  constructor(
    private readonly queries: QueryBus,
    private readonly policies: PolicyService,
  ) {}

  @Get('policies')
  @Roles('inspector', 'admin')
  @ApiOperation({
    summary: 'The policy layers in force, with their settings, citations, versions and history',
    description:
      '`pending`: a change the projector has not applied to the stored contracts yet. A ' +
      'layer with `version` 0 is built in and was never changed.',
  })
  list() {
    return this.queries.execute(new GetPoliciesQuery());
  }

  @Put('admin/policies/:id')
  @Roles('admin')
  @ApiOperation({
    summary: 'Add or replace a policy layer (the previous version is kept)',
    description:
      'Refused with a code, storing nothing, when it cannot be applied: `POLICY.INVALID`, ' +
      '`POLICY.UNKNOWN_RULE`, `POLICY.INVALID_SETTING`, `POLICY.OVERLAPPING`. The projector ' +
      'leader applies a stored change on its next tick to every contract it affects.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['name', 'regions', 'rules', 'source'],
      properties: {
        name: { type: 'string', example: '北京市政府采购合同管理办法' },
        regions: {
          type: 'array',
          items: { type: 'string', example: '11' },
          description: 'region-code prefixes (digits); "" = every region',
        },
        from: { type: 'string', format: 'date', nullable: true },
        to: { type: 'string', format: 'date', nullable: true },
        rules: {
          type: 'object',
          description:
            'ruleId → {period: {unit: calendarDays|workingDays, n}} | {thresholdPercent: {sme, other}} | {off: true}; optional from, source',
          example: { signing: { period: { unit: 'calendarDays', n: 15 } } },
        },
        source: { type: 'string', example: '京财采购〔2023〕1号' },
      },
    },
  })
  async put(
    @Param('id') id: string,
    @Body() body: unknown,
    @Principal() user: Principal | undefined,
  ) {
    try {
      const layer = await this.policies.put(id, body, user?.sub ?? 'admin');
      return {
        ...layer,
        status: 'stored',
        note: 'the projector applies it on its next tick: every contract it affects is recomputed',
      };
    } catch (err) {
      if (!(err instanceof PolicyRefused)) throw err;
      const { code, path, message } = err.problem;
      throw new AppError(code, `policy layer ${id} refused: ${message}`, httpStatusOf(code), [
        { path, message },
      ]);
    }
  }
}
