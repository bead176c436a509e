/** Dependency rules of ARCHITECTURE.md, checked by `npm run lint`. */
module.exports = {
  forbidden: [
    {
      name: 'pure-libs-import-nothing-internal',
      comment: 'domain, calendar and contracts depend on nothing internal',
      severity: 'error',
      from: { path: '^libs/(domain|calendar|contracts)/' },
      to: { path: '^(libs|apps)/', pathNot: ['^libs/$1/'] },
    },
    {
      name: 'domain-and-calendar-are-pure',
      comment: 'no Nest, no TypeORM, no database driver in the pure libraries',
      severity: 'error',
      from: { path: '^libs/(domain|calendar)/' },
      to: { path: 'node_modules/(@nestjs|typeorm|pg|kafkajs|class-validator|class-transformer)/' },
    },
    {
      name: 'apps-are-imported-by-nobody',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'testing-only-in-tests',
      comment: 'libs/testing is imported only by tests and benchmarks',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: ['^libs/testing/', '\\.spec\\.ts$'] },
      to: { path: '^libs/testing/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|\\.spec\\.ts$)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
