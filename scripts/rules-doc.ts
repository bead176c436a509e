/**
 * Writes docs/rules.md, the table of every rule and its settings in the built-in policy
 * layers (libs/domain rulesDoc). `npm run docs:rules`; a unit test checks the committed file.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { BUILT_IN_POLICIES, rulesDoc } from '@app/domain';

const out = path.resolve(__dirname, '../docs/rules.md');
writeFileSync(out, rulesDoc(BUILT_IN_POLICIES));
console.log(`wrote ${path.relative(process.cwd(), out)}`);
