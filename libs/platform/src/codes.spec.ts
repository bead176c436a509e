import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { DataQualityCodes } from '@app/domain';
import { HTTP_STATUS } from './codes';

const ROOT = path.resolve(__dirname, '../../..');
const registered = new Set<string>([
  ...Object.keys(HTTP_STATUS),
  ...Object.values(DataQualityCodes),
]);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    // the dashboard is a client of the API: codes it raises itself never come from the service
    const skip = name === 'node_modules' || p === path.join(ROOT, 'apps', 'dashboard');
    if (statSync(p).isDirectory()) return skip ? [] : sources(p);
    return p.endsWith('.ts') && !p.endsWith('.spec.ts') ? [p] : [];
  });
}

describe('one registry of codes', () => {
  it('every code, data-quality codes included, is documented in the README', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect([...registered].filter((code) => !readme.includes(`\`${code}\``))).toEqual([]);
  });

  it('every code written as a literal in the service (apps/ but the dashboard, libs/) is a registered one', () => {
    const literal = /'([A-Z]+(?:\.[A-Z_]+)+)'/g;
    const unknown: string[] = [];
    for (const file of [...sources(path.join(ROOT, 'apps')), ...sources(path.join(ROOT, 'libs'))])
      for (const m of readFileSync(file, 'utf8').matchAll(literal))
        if (!registered.has(m[1])) unknown.push(`${path.relative(ROOT, file)}: ${m[1]}`);
    expect(unknown).toEqual([]);
  });
});
