import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { apply as mergePatch } from 'json-merge-patch';
import { OCDS_EXTENSION_DIR, OCDS_SCHEMA_DIR } from '@app/ocds';

const read = (file: string): Record<string, unknown> =>
  JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/** OCDS 1.1.5 release schema (vendored) with our extension applied as a JSON Merge Patch. */
export function mergedReleaseSchema(): Record<string, unknown> {
  const core = read(path.join(OCDS_SCHEMA_DIR, 'release-schema.json'));
  const patch = read(path.join(OCDS_EXTENSION_DIR, 'release-schema.json'));
  return mergePatch<Record<string, unknown>>(core, patch);
}

export interface OcdsValidators {
  release: (v: unknown) => string[];
  recordPackage: (v: unknown) => string[];
  releasePackage: (v: unknown) => string[];
}

/**
 * JSON Schema validators (ajv, draft-04 as the OCDS schemas declare, with formats) of a
 * release, a record package and a release package against OCDS 1.1.5 merged with our
 * extension. Each returns the errors as "path message" lines (none: valid).
 */
export function ocdsValidators(): OcdsValidators {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const release = mergedReleaseSchema();
  // the packages $ref the release schema by its id: the merged one takes that id
  ajv.addSchema(release);
  // a record's optional versionedRelease: not exported, so any value passes
  ajv.addSchema({
    id: 'https://standard.open-contracting.org/schema/1__1__5/versioned-release-validation-schema.json',
  });
  const compile = (schema: Record<string, unknown>) => {
    const validate = ajv.compile(schema);
    return (v: unknown) =>
      validate(v)
        ? []
        : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
  };
  return {
    release: compile({ $ref: release.id }),
    recordPackage: compile(read(path.join(OCDS_SCHEMA_DIR, 'record-package-schema.json'))),
    releasePackage: compile(read(path.join(OCDS_SCHEMA_DIR, 'release-package-schema.json'))),
  };
}
