/**
 * `@herald/postgres`: Herald's transactional outbox and inbox on PostgreSQL, through the `pg`
 * client your application already holds.
 * @module @herald/postgres
 */

export {
  quoteSchema,
  withTransaction,
  type SqlClient,
  type SqlNotification,
  type SqlPool,
  type SqlPoolClient,
  type SqlResult,
} from './sql.js';
export { migrate, migrations, type MigrateOptions, type Migration } from './migrate.js';
export { PostgresOutboxStore, type FailedOutboxEntry, type PostgresOutboxStoreOptions } from './outbox.store.js';
export { inboxKeyOf, PostgresInboxStore, type InboxKey, type PostgresInboxStoreOptions } from './inbox.store.js';
