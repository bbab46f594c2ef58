/** Statistics for the report: pure functions, no I/O. */
export * from './normal.ts';
export * from './proportions.ts';
export * from './bootstrap.ts';
export * from './power.ts';
export * from './kaplan-meier.ts';
export * from './break-even.ts';
