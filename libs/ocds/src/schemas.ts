import * as path from 'node:path';

/**
 * Where the vendored OCDS 1.1.5 schemas and our extension are (libs/ocds/schema, copied
 * beside the build by `swc --copy-files`): see schema/NOTICE.md for their origin.
 */
export const OCDS_SCHEMA_DIR = path.join(__dirname, '..', 'schema');
export const OCDS_EXTENSION_DIR = path.join(OCDS_SCHEMA_DIR, 'extension');
/** The OCDS version the export declares. */
export const OCDS_EXPORT_VERSION = '1.1';
