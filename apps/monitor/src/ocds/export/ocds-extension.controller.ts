import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { OCDS_EXTENSION_DIR } from '@app/ocds';
import { Public } from '@app/platform';

const read = (name: string): unknown =>
  JSON.parse(readFileSync(path.join(OCDS_EXTENSION_DIR, name), 'utf8')) as unknown;

/**
 * Our OCDS extension, served where exported packages say it is (`extensions`): open like
 * /docs, since OCDS tools fetch extensions without credentials. The files are the ones in
 * libs/ocds/schema/extension.
 */
@ApiTags('ocds')
@Public()
@Controller('ocds/extension')
export class OcdsExtensionController {
  private readonly extension = read('extension.json');
  private readonly schema = read('release-schema.json');

  @Get('extension.json')
  @Header('cache-control', 'public, max-age=3600')
  @ApiOperation({ summary: 'The OCDS extension metadata (extension.json) of our export' })
  extensionJson(): unknown {
    return this.extension;
  }

  @Get('release-schema.json')
  @Header('cache-control', 'public, max-age=3600')
  @ApiOperation({ summary: "The extension's release schema (a JSON Merge Patch)" })
  releaseSchema(): unknown {
    return this.schema;
  }
}
