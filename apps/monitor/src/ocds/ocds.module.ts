import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { OcdsExportController } from './export/ocds-export.controller';
import { OcdsExtensionController } from './export/ocds-extension.controller';
import { OcdsImportController } from './import-releases/ocds-import.controller';
import { OcdsImporter } from './import-releases/ocds-importer';

/** SPEC §10: OCDS import (ingestion) and export (queries). */
@Module({
  imports: [CqrsModule],
  controllers: [OcdsImportController, OcdsExportController, OcdsExtensionController],
  providers: [OcdsImporter],
  exports: [OcdsImporter],
})
export class OcdsModule {}
