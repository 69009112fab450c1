/**
 * `@herald/postgres`: Herald's transactional outbox and inbox on PostgreSQL, through the `pg`
 * client your application already holds.
 * @module
 */

export * from './sql.js';
export * from './migrate.js';
export * from './outbox.store.js';
export * from './inbox.store.js';
