import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BUILT_IN_POLICIES } from './policies';
import { rulesDoc } from './rules-doc';

describe('docs/rules.md', () => {
  it('is the table generated from the built-in layers (run `npm run docs:rules`)', () => {
    const committed = readFileSync(path.resolve(__dirname, '../../../../docs/rules.md'), 'utf8');
    expect(committed).toBe(rulesDoc(BUILT_IN_POLICIES));
  });
});
