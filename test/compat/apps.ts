/** The framework versions the compat suite installs, and each app's own dependencies. */

export interface ExpressApp {
  readonly name: string;
  readonly express: string;
}

export const EXPRESS_APPS: readonly ExpressApp[] = [{ name: 'express5', express: '^5.1.0' }];

/** Express 4 (the peer range's floor and the latest 4.x); their suite is express4.test.ts. */
export const EXPRESS4_APPS: readonly ExpressApp[] = [
  { name: 'express4', express: '^4.22.1' },
  { name: 'express4-floor', express: '4.18.3' },
];

export const expressDependencies = (express: string) => ({
  express,
  helmet: '^8.1.0',
  cors: '^2.8.5',
  compression: '^1.8.0',
  passport: '^0.7.0',
  'passport-jwt': '^4.0.1',
  sequelize: '^6.37.7',
  pg: '^8.16.0',
  'pg-hstore': '^2.3.4',
});

export const NEST_APPS = [
  { name: 'nest10', nest: '^10.4.0', passport: '^10.0.3' },
  { name: 'nest11', nest: '^11.1.0', passport: '^11.0.5' },
  { name: 'nest12', nest: '^12.0.0', passport: '^12.0.0' },
] as const;

export const nestDependencies = (nest: string, nestPassport: string) => ({
  '@nestjs/common': nest,
  '@nestjs/core': nest,
  '@nestjs/platform-express': nest,
  '@nestjs/passport': nestPassport,
  'reflect-metadata': '^0.2.2',
  rxjs: '^7.8.1',
  helmet: '^8.1.0',
  compression: '^1.8.0',
  passport: '^0.7.0',
  'passport-jwt': '^4.0.1',
  sequelize: '^6.37.7',
  pg: '^8.16.0',
  'pg-hstore': '^2.3.4',
});

export const EXPRESS_FILES = ['express-app.cjs', 'policy.cjs', 'db.cjs', 'audit.cjs'];
export const NEST_FILES = ['nest-app.ts', 'policy.cjs', 'db.cjs', 'audit.cjs'];
