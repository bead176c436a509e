// OCDS (Open Contracting Data Standard 1.1/1.2) in and out, SPEC §10: a streaming reader of
// packages and JSON Lines, the release → events mapping, the contract → compiled release
// mapping, and the vendored schemas (../schema). Pure: no Nest, no database.
export * from './json-reader';
export * from './amounts';
export * from './event-id';
export * from './import-mapping';
export * from './export-mapping';
export * from './schemas';
