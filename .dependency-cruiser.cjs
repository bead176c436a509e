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
      name: 'apps-reach-the-database-through-libs',
      comment:
        'apps/ sends no SQL: writes through the event store and projections, reads through queries on the read pool',
      severity: 'error',
      from: { path: '^apps/' },
      to: { path: 'node_modules/(pg|pg-[a-z-]+|typeorm|@nestjs/typeorm)/' },
    },
    {
      name: 'libs-through-their-index',
      comment: 'apps and other libs use a library through @app/<lib> (its index.ts) only',
      severity: 'error',
      from: { path: '^(apps|libs)/([^/]+)/', pathNot: '^libs/testing/' },
      to: { path: '^libs/[^/]+/src/', pathNot: ['^libs/[^/]+/src/index\\.ts$', '^libs/$2/'] },
    },
    {
      name: 'testing-only-in-tests',
      comment: 'libs/testing is imported only by tests and benchmarks',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: ['^libs/testing/', '\\.spec\\.ts$'] },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'dashboard-is-a-client',
      comment:
        'the web dashboard talks only to /v1 (ARCHITECTURE.md convention 13): it imports nothing of the service or its libraries',
      severity: 'error',
      from: { path: '^apps/dashboard/' },
      to: { path: '^(libs|apps/monitor)/' },
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
