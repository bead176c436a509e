import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Logger,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { NotificationSweep, WebhookSubscriptions } from '@app/projections';
import {
  APP_CONFIG,
  AppError,
  httpStatusOf,
  Principal,
  Roles,
  type AppConfig,
} from '@app/platform';
import { WebhookPayloadDoc } from './webhook-payload.doc';
import { checkWebhookUrl, WebhookUrlRefused } from './webhook-url';

import {
  CreatedWebhookDoc,
  CreateWebhookDto,
  DeliveriesQuery,
  DeliveryPageDoc,
  WebhookDoc,
} from './webhooks.dto';

/**
 * Webhook subscriptions (SPEC §8): the early warnings pushed to the systems that send SMS
 * and messages (docs/webhooks.md).
 */
@ApiTags('admin')
@ApiExtraModels(WebhookPayloadDoc)
@Roles('admin')
@Controller('v1/admin/webhooks')
export class WebhooksController {
  private readonly logger = new Logger('Webhooks');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly subscriptions: WebhookSubscriptions,
    private readonly sweep: NotificationSweep,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Subscribe a URL to early warnings; the signing secret is in this answer only',
    description:
      'Deliveries are POSTed as JSON (schema WebhookPayloadDoc) with `X-Signature-256: ' +
      'sha256=<hex HMAC-SHA256 of the raw body>` and `X-Delivery-Id`. Refused URLs: ' +
      '`WEBHOOK.URL_INVALID`, `WEBHOOK.URL_NOT_HTTPS` (http only to a loopback host), ' +
      '`WEBHOOK.URL_PRIVATE_ADDRESS` (unless WEBHOOK_ALLOW_PRIVATE), `WEBHOOK.URL_UNRESOLVABLE`.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookDoc })
  async create(@Body() body: CreateWebhookDto, @Principal() user: Principal | undefined) {
    try {
      await checkWebhookUrl(body.url, this.config.webhooks.allowPrivate);
    } catch (err) {
      if (!(err instanceof WebhookUrlRefused)) throw err;
      throw new AppError(err.code, err.message, httpStatusOf(err.code), [
        { path: 'url', message: err.message },
      ]);
    }
    const created = await this.subscriptions.create(body, user?.sub ?? 'admin');
    // what is already due soon is decided now rather than at the next hourly sweep
    this.sweep.run().catch((err: Error) => this.logger.warn(`sweep failed: ${err.message}`));
    return created;
  }

  @Get()
  @ApiOperation({ summary: 'The webhook subscriptions (without their secrets)' })
  @ApiOkResponse({ type: [WebhookDoc] })
  list() {
    return this.subscriptions.list();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook subscription' })
  @ApiOkResponse({ type: WebhookDoc })
  get(@Param('id') id: string) {
    return this.subscriptions.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a subscription: nothing more is sent; pending deliveries cancelled',
  })
  @ApiNoContentResponse()
  async delete(@Param('id') id: string): Promise<void> {
    await this.subscriptions.delete(id);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Resume a subscription paused after 24 h of failures; its pending deliveries go at once',
  })
  @ApiOkResponse({ type: WebhookDoc })
  resume(@Param('id') id: string) {
    return this.subscriptions.resume(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    summary: 'Delivery history: status, attempts, last answer and error, newest first',
  })
  @ApiOkResponse({ type: DeliveryPageDoc })
  deliveries(@Param('id') id: string, @Query() q: DeliveriesQuery) {
    return this.subscriptions.deliveries(id, q.status, q.page ?? 1, q.pageSize ?? 50);
  }
}
